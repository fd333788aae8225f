using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TapPass.Governance.Engine;

/// <summary>Why a capability token was rejected.</summary>
internal enum CapabilityTokenStatus
{
    Valid,
    Malformed,
    BadSignature,
    Expired,
    WrongScope,
}

/// <summary>The claims of a valid token.</summary>
internal sealed record CapabilityClaims(string Tool, string SessionId, string AgentUuid, string Org, string ArgsSha256, DateTimeOffset ExpiresAt, string TokenId);

/// <summary>
/// Capability tokens (PROTOCOL.md §6): compact JWS, ES256 (ECDSA P-256 with SHA-256), header
/// <c>{"alg":"ES256","typ":"JWT","kid":…}</c>, claims <c>iss</c> (the gateway's public URL), <c>aud</c>
/// (<c>tappass-tool</c>), <c>sub</c> (agent uuid), <c>org</c>, <c>sid</c> (session), <c>tool</c>,
/// <c>args_sha256</c> (SHA-256 of the canonical arguments), <c>iat</c>, <c>exp</c> (60 s by default), <c>jti</c>.
/// A tool runtime verifies them with the public key from <see cref="Jwks"/> (<c>/.well-known/jwks.json</c>).
/// </summary>
internal sealed class CapabilityTokens : IDisposable
{
    public const string Audience = "tappass-tool";

    private readonly ECDsa _key;
    private readonly Lock _keyGate = new();
    private readonly string _issuer;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private readonly string _kid;
    private readonly byte[] _header;

    public CapabilityTokens(EngineSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _time = time;
        _issuer = settings.PublicBaseUrl;
        _lifetime = settings.CapabilityTokenLifetime;
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (settings.SigningKeyPem is { Length: > 0 } pem)
        {
            _key.ImportFromPem(pem);
            if (_key.KeySize != 256)
            {
                throw new ArgumentException("SigningKeyPem must be a P-256 key.");
            }
        }

        var spki = _key.ExportSubjectPublicKeyInfo();
        _kid = Base64Url.EncodeToString(SHA256.HashData(spki))[..16];
        _header = Encoding.UTF8.GetBytes($"{{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"{_kid}\"}}");
    }

    public string KeyId => _kid;

    /// <summary>Issues a token for one tool call.</summary>
    public string Issue(string org, string agentUuid, string sessionId, string tool, string argsSha256)
    {
        var now = _time.GetUtcNow();
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("iss", _issuer);
            w.WriteString("aud", Audience);
            w.WriteString("sub", agentUuid);
            w.WriteString("org", org);
            w.WriteString("sid", sessionId);
            w.WriteString("tool", tool);
            w.WriteString("args_sha256", argsSha256);
            w.WriteNumber("iat", now.ToUnixTimeSeconds());
            w.WriteNumber("exp", (now + _lifetime).ToUnixTimeSeconds());
            w.WriteString("jti", Identity.Base62.Random(22));
            w.WriteEndObject();
        }

        var signingInput = Base64Url.EncodeToString(_header) + "." + Base64Url.EncodeToString(stream.ToArray());
        byte[] signature;
        lock (_keyGate)
        {
            signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }

        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>
    /// Verifies a token's signature, expiry and scope: it must name <paramref name="tool"/>,
    /// <paramref name="sessionId"/> and <paramref name="agentUuid"/> (and <paramref name="argsSha256"/> when given).
    /// </summary>
    public CapabilityTokenStatus Verify(string? token, string tool, string sessionId, string agentUuid, string? argsSha256, out CapabilityClaims? claims)
    {
        claims = null;
        if (token is null || token.Length > 4096)
        {
            return CapabilityTokenStatus.Malformed;
        }

        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return CapabilityTokenStatus.Malformed;
        }

        byte[] header, payload, signature;
        try
        {
            header = Base64Url.DecodeFromChars(parts[0]);
            payload = Base64Url.DecodeFromChars(parts[1]);
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            return CapabilityTokenStatus.Malformed;
        }

        if (!header.AsSpan().SequenceEqual(_header))
        {
            return CapabilityTokenStatus.Malformed;
        }

        bool signatureValid;
        lock (_keyGate)
        {
            signatureValid = _key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }

        if (!signatureValid)
        {
            return CapabilityTokenStatus.BadSignature;
        }

        try
        {
            using var doc = JsonDocument.Parse(payload);
            var root = doc.RootElement;
            var exp = DateTimeOffset.FromUnixTimeSeconds(root.GetProperty("exp").GetInt64());
            var c = new CapabilityClaims(
                root.GetProperty("tool").GetString() ?? "",
                root.GetProperty("sid").GetString() ?? "",
                root.GetProperty("sub").GetString() ?? "",
                root.GetProperty("org").GetString() ?? "",
                root.GetProperty("args_sha256").GetString() ?? "",
                exp,
                root.GetProperty("jti").GetString() ?? "");
            if (root.GetProperty("iss").GetString() != _issuer || root.GetProperty("aud").GetString() != Audience)
            {
                return CapabilityTokenStatus.WrongScope;
            }

            if (_time.GetUtcNow() >= exp)
            {
                return CapabilityTokenStatus.Expired;
            }

            if (c.Tool != tool || c.SessionId != sessionId || !string.Equals(c.AgentUuid, agentUuid, StringComparison.OrdinalIgnoreCase) ||
                (argsSha256 is not null && !string.Equals(c.ArgsSha256, argsSha256, StringComparison.OrdinalIgnoreCase)))
            {
                return CapabilityTokenStatus.WrongScope;
            }

            claims = c;
            return CapabilityTokenStatus.Valid;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            return CapabilityTokenStatus.Malformed;
        }
    }

    /// <summary>The public key as a JWK, with the <c>kid</c> that token headers carry.</summary>
    public Audit.EcPublicJwk PublicJwk()
    {
        ECParameters p;
        lock (_keyGate)
        {
            p = _key.ExportParameters(includePrivateParameters: false);
        }

        return new Audit.EcPublicJwk("EC", "P-256", Base64Url.EncodeToString(p.Q.X), Base64Url.EncodeToString(p.Q.Y), _kid, "sig", "ES256");
    }

    /// <summary>The public key as a JWK Set: <c>{"keys":[{"kty":"EC","crv":"P-256","x":…,"y":…,"kid":…,"use":"sig","alg":"ES256"}]}</c>.</summary>
    public string Jwks()
    {
        ECParameters p;
        lock (_keyGate)
        {
            p = _key.ExportParameters(includePrivateParameters: false);
        }

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartArray("keys");
            w.WriteStartObject();
            w.WriteString("kty", "EC");
            w.WriteString("crv", "P-256");
            w.WriteString("x", Base64Url.EncodeToString(p.Q.X));
            w.WriteString("y", Base64Url.EncodeToString(p.Q.Y));
            w.WriteString("kid", _kid);
            w.WriteString("use", "sig");
            w.WriteString("alg", "ES256");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>SHA-256 digests of tool definitions, arguments and calls (canonical JSON, lower-case hex).</summary>
internal static class Digests
{
    /// <summary>
    /// The definition digest pinned per session: SHA-256 of the canonical JSON of
    /// <c>{"description": …, "name": …, "parameters": …}</c> (absent members omitted).
    /// </summary>
    public static string ToolDefinition(string name, string? description, JsonElement? parameters)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            if (description is not null)
            {
                w.WriteString("description", description);
            }

            w.WriteString("name", name);
            if (parameters is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } p)
            {
                w.WritePropertyName("parameters");
                p.WriteTo(w);
            }

            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(stream.ToArray());
        return Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.Serialize(doc.RootElement)));
    }

    /// <summary>SHA-256 of canonical JSON of <paramref name="value"/> (<c>{}</c> when null).</summary>
    public static string Json(JsonElement? value) =>
        value is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } v
            ? Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.Serialize(v)))
            : Convert.ToHexStringLower(SHA256.HashData("{}"u8));

    public static string Text(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
