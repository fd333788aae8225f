using System.Security.Cryptography;
using System.Text;

namespace TapPass.Governance.Identity;

/// <summary>
/// API key format (PROTOCOL.md §1, [ours]): <c>tp_</c> + 43 base62 characters encoding 32 random bytes (256 bits) +
/// 6 base62 characters of checksum (the first 4 bytes of SHA-256 over the 43-character body). 52 characters in all,
/// e.g. <c>tp_0aZ…Q7</c>. The checksum lets secret scanners and the gateway reject mistyped or made-up keys without
/// a lookup; it adds no security.
/// </summary>
internal static class ApiKeyFormat
{
    public const string Prefix = "tp_";
    public const int RandomBytes = 32;
    public const int ChecksumLength = 6;

    public static readonly int BodyLength = Base62.WidthFor(RandomBytes);

    public static int KeyLength => Prefix.Length + BodyLength + ChecksumLength;

    /// <summary>Generates a new key.</summary>
    public static string Generate()
    {
        Span<byte> random = stackalloc byte[RandomBytes];
        RandomNumberGenerator.Fill(random);
        var body = Base62.Encode(random, BodyLength);
        CryptographicOperations.ZeroMemory(random);
        return Prefix + body + Checksum(body);
    }

    /// <summary>True when <paramref name="key"/> has the shape and a valid checksum.</summary>
    public static bool IsWellFormed(string? key)
    {
        if (key is null || key.Length != KeyLength || !key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = Prefix.Length; i < key.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(key[i]))
            {
                return false;
            }
        }

        var body = key.Substring(Prefix.Length, BodyLength);
        var sum = key.AsSpan(Prefix.Length + BodyLength);
        return CryptographicOperations.FixedTimeEquals(
            AsciiBytes(Checksum(body)), AsciiBytes(sum.ToString()));
    }

    /// <summary>SHA-256 of the key's UTF-8 bytes, lower-case hex: what the gateway stores.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Checksum(string body)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.ASCII.GetBytes(body), hash);
        return Base62.Encode(hash[..4], ChecksumLength);
    }

    private static byte[] AsciiBytes(string s) => Encoding.ASCII.GetBytes(s);
}

/// <summary>
/// Maps API keys to identities. Holds only SHA-256 hashes of keys; every lookup hashes the presented key and compares
/// it against every stored hash with <see cref="CryptographicOperations.FixedTimeEquals"/>, without an early exit, so
/// the time taken does not depend on which (or whether a) stored hash matched. Thread-safe.
/// </summary>
internal sealed class ApiKeyStore
{
    private readonly Lock _gate = new();
    private Entry[] _entries = [];

    /// <summary>Number of keys.</summary>
    public int Count => Volatile.Read(ref _entries).Length;

    /// <summary>Adds a plaintext key; only its hash is kept.</summary>
    public void AddKey(string key, AgentIdentity identity)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        AddHash(ApiKeyFormat.Hash(key), identity);
    }

    /// <summary>Adds a key by its SHA-256 hash (64 hex characters).</summary>
    public void AddHash(string sha256Hex, AgentIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (sha256Hex is null || sha256Hex.Length != 64 || !sha256Hex.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException("A key hash must be 64 hexadecimal characters (SHA-256).", nameof(sha256Hex));
        }

        var hash = Convert.FromHexString(sha256Hex);
        lock (_gate)
        {
            if (_entries.Any(e => CryptographicOperations.FixedTimeEquals(e.Hash, hash)))
            {
                throw new ArgumentException("This key is already registered.", nameof(sha256Hex));
            }

            _entries = [.. _entries, new Entry(hash, identity)];
        }
    }

    /// <summary>
    /// Generates a development key for <paramref name="identity"/> (used by the server when no keys are configured),
    /// registers it and returns it. The caller shows it once; it is never stored in plaintext.
    /// </summary>
    public string GenerateDevelopmentKey(AgentIdentity? identity = null)
    {
        var key = ApiKeyFormat.Generate();
        AddKey(key, identity ?? DevelopmentIdentity);
        return key;
    }

    /// <summary>The identity of a development key: agent <c>dev-agent</c> in org <c>dev</c>, tier full, every role.</summary>
    public static AgentIdentity DevelopmentIdentity { get; } = new()
    {
        AgentId = "dev-agent",
        AgentUuid = "00000000-0000-4000-8000-000000000001",
        Org = "dev",
        TrustTier = TrustTier.Full,
        Roles = AgentRoles.Agent | AgentRoles.Approver | AgentRoles.Admin,
    };

    /// <summary>Finds the identity of <paramref name="key"/>; false for a missing, malformed or unknown key.</summary>
    public bool TryAuthenticate(string? key, out AgentIdentity identity)
    {
        identity = null!;
        if (string.IsNullOrEmpty(key) || key.Length > 256)
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[32];
        var byteCount = Encoding.UTF8.GetByteCount(key);
        var buffer = byteCount <= 512 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(key, buffer);
        SHA256.HashData(buffer, presented);
        CryptographicOperations.ZeroMemory(buffer);

        AgentIdentity? found = null;
        foreach (var entry in Volatile.Read(ref _entries))
        {
            // No early exit: every entry is compared.
            if (CryptographicOperations.FixedTimeEquals(entry.Hash, presented))
            {
                found = entry.Identity;
            }
        }

        if (found is null)
        {
            return false;
        }

        identity = found;
        return true;
    }

    private sealed record Entry(byte[] Hash, AgentIdentity Identity);
}
