using System.Text;

namespace TapPass.Governance.Tests.Detection;

/// <summary>
/// Builds format-valid but fake credentials at run time (deterministic per seed), so no token-shaped literal
/// lives in the source tree.
/// </summary>
internal static class FakeSecrets
{
    public const string Alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    public const string Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    public const string Lower = "abcdefghijklmnopqrstuvwxyz0123456789";
    public const string Hex = "0123456789abcdef";
    public const string B64Url = Alnum + "-_";
    public const string B64 = Alnum + "+/";

    public static string Random(int length, string alphabet, int seed)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder(length);
        for (var i = 0; i < length; i++) sb.Append(alphabet[rng.Next(alphabet.Length)]);

        // Guarantee at least one digit and both cases where the alphabet allows it, as real tokens have.
        var digits = alphabet.Where(char.IsAsciiDigit).ToArray();
        if (digits.Length > 0 && length > 3) sb[1] = digits[((seed % digits.Length) + digits.Length) % digits.Length];
        if (alphabet.Contains('a') && alphabet.Contains('A') && length > 3)
        {
            sb[2] = 'q';
            sb[3] = 'Z';
        }

        return sb.ToString();
    }

    public static string Base64Url(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Jwt(int seed) =>
        Base64Url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." + Base64Url("{\"sub\":\"user-" + seed + "\",\"iat\":1716000000}") + "." + Random(43, B64Url, seed);

    public static string Pem(string label, string newline, int seed, int lines = 6)
    {
        var sb = new StringBuilder();
        sb.Append("-----BEGIN ").Append(label).Append("-----").Append(newline);
        for (var i = 0; i < lines; i++) sb.Append(Random(64, B64, seed + i)).Append(newline);
        sb.Append(Random(20, B64, seed + 99)).Append("==").Append(newline);
        sb.Append("-----END ").Append(label).Append("-----");
        return sb.ToString();
    }

    /// <summary>(kind, token) for every prefixed vendor format the detector recognises, one fake each.</summary>
    public static IEnumerable<(string Kind, string Token)> VendorTokens(int seed)
    {
        yield return ("aws_access_key", "AKIA" + Random(16, Upper, seed));
        yield return ("aws_access_key", "ASIA" + Random(16, Upper, seed + 1));
        yield return ("google_api_key", "AIza" + Random(35, B64Url, seed));
        yield return ("google_oauth_client_secret", "GOCSPX-" + Random(28, B64Url, seed));
        yield return ("google_oauth_access_token", "ya29." + Random(60, B64Url, seed));
        yield return ("digitalocean_token", "dop_v1_" + Random(64, Hex, seed));
        yield return ("heroku_api_key", "HRKU-AA" + Random(58, B64Url, seed));
        yield return ("github_pat", "ghp_" + Random(36, Alnum, seed));
        yield return ("github_oauth_token", "gho_" + Random(36, Alnum, seed));
        yield return ("github_user_token", "ghu_" + Random(36, Alnum, seed));
        yield return ("github_app_token", "ghs_" + Random(36, Alnum, seed));
        yield return ("github_refresh_token", "ghr_" + Random(36, Alnum, seed));
        yield return ("github_fine_grained_pat", "github_pat_" + Random(22, Alnum, seed) + "_" + Random(59, Alnum, seed + 1));
        yield return ("gitlab_token", "glpat-" + Random(20, B64Url, seed));
        yield return ("npm_token", "npm_" + Random(36, Alnum, seed));
        yield return ("pypi_token", "pypi-AgEIcHlwaS5vcmc" + Random(70, B64Url, seed));
        yield return ("nuget_api_key", "oy2" + Random(43, Lower, seed));
        yield return ("rubygems_api_key", "rubygems_" + Random(48, Hex, seed));
        yield return ("dockerhub_token", "dckr_pat_" + Random(27, B64Url, seed));
        yield return ("slack_token", "xoxb-" + Random(12, "0123456789", seed) + "-" + Random(13, "0123456789", seed + 1) + "-" + Random(24, Alnum, seed));
        yield return ("slack_token", "xoxp-" + Random(12, "0123456789", seed) + "-" + Random(12, "0123456789", seed + 2) + "-" + Random(32, Hex, seed));
        yield return ("slack_token", "xoxa-2-" + Random(40, Alnum, seed));
        yield return ("slack_app_token", "xapp-1-A" + Random(10, Upper, seed) + "-" + Random(13, "0123456789", seed) + "-" + Random(64, Hex, seed));
        yield return ("slack_webhook", "https://hooks.slack.com/services/T" + Random(8, Upper, seed) + "/B" + Random(8, Upper, seed + 1) + "/" + Random(24, Alnum, seed));
        yield return ("discord_webhook", "https://discord.com/api/webhooks/" + Random(18, "0123456789", seed) + "/" + Random(68, B64Url, seed));
        yield return ("atlassian_api_token", "ATATT3" + Random(186, B64Url, seed));
        yield return ("linear_api_key", "lin_api_" + Random(40, Alnum, seed));
        yield return ("notion_token", "ntn_" + Random(46, Alnum, seed));
        yield return ("figma_token", "figd_" + Random(40, B64Url, seed));
        yield return ("stripe_secret_key", "sk_live_" + Random(24, Alnum, seed));
        yield return ("stripe_secret_key", "sk_test_" + Random(99, Alnum, seed));
        yield return ("stripe_restricted_key", "rk_live_" + Random(24, Alnum, seed));
        yield return ("stripe_restricted_key", "rk_test_" + Random(24, Alnum, seed));
        yield return ("stripe_webhook_secret", "whsec_" + Random(32, Alnum, seed));
        yield return ("square_token", "sq0csp-" + Random(43, B64Url, seed));
        yield return ("square_access_token", "EAAA" + Random(60, B64Url, seed));
        yield return ("braintree_access_token", "access_token$production$" + Random(16, Lower, seed) + "$" + Random(32, Hex, seed));
        yield return ("shopify_token", "shpat_" + Random(32, Hex, seed));
        yield return ("shopify_token", "shpss_" + Random(32, Hex, seed));
        yield return ("openai_api_key", "sk-proj-" + Random(74, B64Url, seed) + "T3BlbkFJ" + Random(74, B64Url, seed + 1));
        yield return ("openai_api_key", "sk-svcacct-" + Random(60, B64Url, seed));
        yield return ("openai_api_key", "sk-admin-" + Random(60, B64Url, seed));
        yield return ("openai_api_key", "sk-" + Random(20, Alnum, seed) + "T3BlbkFJ" + Random(20, Alnum, seed + 1));
        yield return ("anthropic_api_key", "sk-ant-api03-" + Random(93, B64Url, seed) + "AA");
        yield return ("huggingface_token", "hf_" + Random(34, Alnum, seed));
        yield return ("groq_api_key", "gsk_" + Random(52, Alnum, seed));
        yield return ("sendgrid_api_key", "SG." + Random(22, B64Url, seed) + "." + Random(43, B64Url, seed + 1));
        yield return ("mailgun_api_key", "key-" + Random(32, Hex, seed));
        yield return ("twilio_api_key", "SK" + Random(32, Hex, seed));
        yield return ("databricks_token", "dapi" + Random(32, Hex, seed));
        yield return ("doppler_token", "dp.pt." + Random(43, Alnum, seed));
        yield return ("vault_token", "hvs." + Random(90, B64Url, seed));
        yield return ("grafana_service_account_token", "glsa_" + Random(32, Alnum, seed) + "_" + Random(8, Hex, seed));
        yield return ("age_secret_key", "AGE-SECRET-KEY-1" + Random(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", seed));
        yield return ("postman_api_key", "PMAK-" + Random(24, Hex, seed) + "-" + Random(34, Hex, seed + 1));
        yield return ("newrelic_api_key", "NRAK-" + Random(27, Upper, seed));
        yield return ("telegram_bot_token", "7" + Random(8, "0123456789", seed) + ":AA" + Random(33, B64Url, seed));
        yield return ("discord_bot_token", Base64Url("812345678901234567") + "." + Random(6, B64Url, seed) + "." + Random(38, B64Url, seed));
        yield return ("azure_ad_client_secret", Random(3, Alnum, seed) + "8Q~" + Random(34, Alnum + "_~.-", seed));
        yield return ("jwt", Jwt(seed));
    }
}
