using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TapPass.AspNetCore.Tests.Samples;

internal enum CapabilityVerdict
{
    Valid,
    Malformed,
    UnknownKey,
    BadSignature,
    WrongAudience,
    Expired,
    WrongTool,
    WrongAgent,
    WrongSession,
    Replayed,
}

/// <summary>
/// What a service a governed tool calls would do with a capability token: verify it offline against the gateway's
/// JWKS (ES256 over <c>header.payload</c>, key chosen by <c>kid</c>), then check <c>aud</c>, <c>exp</c> and that
/// <c>tool</c>, <c>sub</c> (agent uuid) and <c>sid</c> (session) are the ones it expects, and, given a replay cache,
/// that its <c>jti</c> was not accepted before. Written from PROTOCOL.md §6 and the Governance README, independently
/// of the engine's own implementation.
/// </summary>
internal static class CapabilityTokenVerifier
{
    public static CapabilityVerdict Verify(string token, string jwks, string tool, string agentUuid, string? sessionId, DateTimeOffset now, ISet<string>? acceptedTokenIds = null)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return CapabilityVerdict.Malformed;
        }

        JsonElement header, claims;
        byte[] signature;
        try
        {
            header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0])).RootElement.Clone();
            claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1])).RootElement.Clone();
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return CapabilityVerdict.Malformed;
        }

        if (header.GetProperty("alg").GetString() != "ES256")
        {
            return CapabilityVerdict.Malformed;
        }

        var kid = header.GetProperty("kid").GetString();
        var jwk = JsonDocument.Parse(jwks).RootElement.GetProperty("keys").EnumerateArray()
            .FirstOrDefault(k => k.GetProperty("kid").GetString() == kid);
        if (jwk.ValueKind != JsonValueKind.Object || jwk.GetProperty("kty").GetString() != "EC" || jwk.GetProperty("crv").GetString() != "P-256")
        {
            return CapabilityVerdict.UnknownKey;
        }

        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint
            {
                X = Base64Url.DecodeFromChars(jwk.GetProperty("x").GetString()),
                Y = Base64Url.DecodeFromChars(jwk.GetProperty("y").GetString()),
            },
        });
        if (!key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            return CapabilityVerdict.BadSignature;
        }

        if (claims.GetProperty("aud").GetString() != "tappass-tool")
        {
            return CapabilityVerdict.WrongAudience;
        }

        if (now >= DateTimeOffset.FromUnixTimeSeconds(claims.GetProperty("exp").GetInt64()))
        {
            return CapabilityVerdict.Expired;
        }

        if (claims.GetProperty("tool").GetString() != tool)
        {
            return CapabilityVerdict.WrongTool;
        }

        if (!string.Equals(claims.GetProperty("sub").GetString(), agentUuid, StringComparison.OrdinalIgnoreCase))
        {
            return CapabilityVerdict.WrongAgent;
        }

        if (sessionId is not null && claims.GetProperty("sid").GetString() != sessionId)
        {
            return CapabilityVerdict.WrongSession;
        }

        return acceptedTokenIds is null || acceptedTokenIds.Add(claims.GetProperty("jti").GetString()!) ? CapabilityVerdict.Valid : CapabilityVerdict.Replayed;
    }

    /// <summary>The token's claims (no verification).</summary>
    public static JsonElement Claims(string token) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[1])).RootElement.Clone();

    /// <summary>The token with its payload replaced by <paramref name="claims"/> and the original header and signature.</summary>
    public static string WithClaims(string token, string claims)
    {
        var parts = token.Split('.');
        return parts[0] + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims)) + "." + parts[2];
    }

    /// <summary>The same header and claims, signed with a key the gateway never published.</summary>
    public static string ResignedWithForeignKey(string token)
    {
        var parts = token.Split('.');
        using var foreign = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signature = foreign.SignData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return parts[0] + "." + parts[1] + "." + Base64Url.EncodeToString(signature);
    }
}
