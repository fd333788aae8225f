using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace TapPass.Governance.Audit;

/// <summary>An EC P-256 public key as a JSON Web Key (RFC 7517), with an RFC 7638 thumbprint as <c>kid</c>.</summary>
/// <param name="Kty">Always <c>EC</c>.</param>
/// <param name="Crv">Always <c>P-256</c>.</param>
/// <param name="X">Base64url x coordinate.</param>
/// <param name="Y">Base64url y coordinate.</param>
/// <param name="Kid">Key id: base64url SHA-256 JWK thumbprint.</param>
/// <param name="Use">Always <c>sig</c>.</param>
/// <param name="Alg">Always <c>ES256</c>.</param>
internal sealed record EcPublicJwk(string Kty, string Crv, string X, string Y, string Kid, string Use, string Alg)
{
    /// <summary>The public half of <paramref name="key"/> (must be P-256).</summary>
    public static EcPublicJwk FromECDsa(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parameters = key.ExportParameters(includePrivateParameters: false);
        var x = Base64Url.EncodeToString(parameters.Q.X);
        var y = Base64Url.EncodeToString(parameters.Q.Y);

        // RFC 7638: required members in lexicographic order, no whitespace.
        var thumbprintInput = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{x}\",\"y\":\"{y}\"}}";
        var kid = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(thumbprintInput)));
        return new EcPublicJwk("EC", "P-256", x, y, kid, "sig", "ES256");
    }
}
