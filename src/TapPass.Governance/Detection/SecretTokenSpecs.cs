using System.Buffers;
using static TapPass.Governance.Detection.SecretHeuristics;

namespace TapPass.Governance.Detection;

/// <summary>Extra checks a prefixed token must pass besides its prefix, alphabet and length.</summary>
[Flags]
internal enum TokenCheck
{
    None = 0,
    /// <summary>The body contains at least one digit.</summary>
    Digit = 1,
    /// <summary>The body contains upper- and lower-case letters.</summary>
    MixedCase = 2,
    /// <summary>The body's entropy is at least 3 bits per character.</summary>
    Entropy = 4,
    /// <summary>A kind-specific shape check (see <see cref="SecretTokenSpecs.ShapeOk"/>).</summary>
    Shape = 8,
    /// <summary>Only reported when <see cref="TokenSpec.Context"/> occurs somewhere in the text.</summary>
    Context = 16,
}

/// <summary>A vendor credential recognised by a literal prefix followed by a body of a given alphabet and length.</summary>
/// <param name="Prefix">Case-sensitive literal prefix (part of the reported span).</param>
/// <param name="Kind">Sub-kind reported in <see cref="Finding.Kind"/>.</param>
/// <param name="Body">Allowed body characters.</param>
/// <param name="Min">Minimum body length.</param>
/// <param name="Max">Maximum body length; a longer run is not this format.</param>
/// <param name="Checks">Extra checks.</param>
/// <param name="Context">Case-insensitive word that must occur in the text when <see cref="TokenCheck.Context"/> is set.</param>
internal sealed record TokenSpec(
    string Prefix, string Kind, SearchValues<char> Body, int Min, int Max,
    TokenCheck Checks = TokenCheck.None, string? Context = null);

/// <summary>The table of prefixed vendor formats and the matcher that applies one at a position.</summary>
internal static class SecretTokenSpecs
{
    public static readonly TokenSpec[] All =
    [
        // Cloud providers
        new("AKIA", "aws_access_key", UpperAlnum, 16, 16, TokenCheck.Shape),
        new("ASIA", "aws_access_key", UpperAlnum, 16, 16, TokenCheck.Shape),
        new("ABIA", "aws_access_key", UpperAlnum, 16, 16, TokenCheck.Shape),
        new("ACCA", "aws_access_key", UpperAlnum, 16, 16, TokenCheck.Shape),
        new("AIza", "google_api_key", Base64Url, 35, 35),
        new("GOCSPX-", "google_oauth_client_secret", Base64Url, 24, 32),
        new("ya29.", "google_oauth_access_token", Base64UrlDot, 30, 2048, TokenCheck.Digit),
        new("LTAI", "alibaba_access_key", Alnum, 12, 20, TokenCheck.Digit | TokenCheck.MixedCase),
        new("AKID", "tencent_secret_id", Alnum, 32, 32, TokenCheck.Digit),
        new("dop_v1_", "digitalocean_token", HexLower, 64, 64),
        new("doo_v1_", "digitalocean_token", HexLower, 64, 64),
        new("dor_v1_", "digitalocean_token", HexLower, 64, 64),
        new("HRKU-", "heroku_api_key", Base64Url, 58, 64),
        // Source hosting and package registries
        new("ghp_", "github_pat", Alnum, 36, 251),
        new("gho_", "github_oauth_token", Alnum, 36, 251),
        new("ghu_", "github_user_token", Alnum, 36, 251),
        new("ghs_", "github_app_token", Alnum, 36, 251),
        new("ghr_", "github_refresh_token", Alnum, 36, 251),
        new("github_pat_", "github_fine_grained_pat", AlnumUnderscore, 50, 244),
        new("glpat-", "gitlab_token", Base64Url, 20, 80),
        new("glptt-", "gitlab_token", Base64Url, 20, 80),
        new("gldt-", "gitlab_token", Base64Url, 20, 80),
        new("glrt-", "gitlab_token", Base64Url, 20, 80),
        new("glsoat-", "gitlab_token", Base64Url, 20, 80),
        new("glcbt-", "gitlab_token", Base64Url, 20, 80),
        new("glimt-", "gitlab_token", Base64Url, 20, 80),
        new("glffct-", "gitlab_token", Base64Url, 20, 80),
        new("GR1348941", "gitlab_runner_token", Base64Url, 20, 40),
        new("npm_", "npm_token", Alnum, 36, 36),
        new("pypi-AgE", "pypi_token", Base64Url, 50, 400),
        new("oy2", "nuget_api_key", LowerAlnum, 43, 43, TokenCheck.Digit),
        new("rubygems_", "rubygems_api_key", HexLower, 48, 48),
        new("dckr_pat_", "dockerhub_token", Base64Url, 24, 100),
        new("dckr_oat_", "dockerhub_token", Base64Url, 24, 100),
        // Chat and collaboration
        new("xoxb-", "slack_token", AlnumDash, 10, 250, TokenCheck.Digit),
        new("xoxp-", "slack_token", AlnumDash, 10, 250, TokenCheck.Digit),
        new("xoxa-", "slack_token", AlnumDash, 10, 250, TokenCheck.Digit),
        new("xoxo-", "slack_token", AlnumDash, 10, 250, TokenCheck.Digit),
        new("xoxs-", "slack_token", AlnumDash, 10, 250, TokenCheck.Digit),
        new("xoxr-", "slack_token", AlnumDash, 10, 250, TokenCheck.Digit),
        new("xoxe-", "slack_token", AlnumDash, 10, 250, TokenCheck.Digit),
        new("xoxe.xoxb-", "slack_token", AlnumDash, 10, 250, TokenCheck.Digit),
        new("xoxe.xoxp-", "slack_token", AlnumDash, 10, 250, TokenCheck.Digit),
        new("xapp-", "slack_app_token", AlnumDash, 20, 250, TokenCheck.Digit),
        new("https://hooks.slack.com/services/", "slack_webhook", UrlPath, 20, 200, TokenCheck.Digit),
        new("https://hooks.slack.com/workflows/", "slack_webhook", UrlPath, 20, 200, TokenCheck.Digit),
        new("https://hooks.slack.com/triggers/", "slack_webhook", UrlPath, 20, 200, TokenCheck.Digit),
        new("https://discord.com/api/webhooks/", "discord_webhook", UrlPath, 70, 100, TokenCheck.Shape),
        new("https://discordapp.com/api/webhooks/", "discord_webhook", UrlPath, 70, 100, TokenCheck.Shape),
        new("https://ptb.discord.com/api/webhooks/", "discord_webhook", UrlPath, 70, 100, TokenCheck.Shape),
        new("https://canary.discord.com/api/webhooks/", "discord_webhook", UrlPath, 70, 100, TokenCheck.Shape),
        new("ATATT3", "atlassian_api_token", Base64Any, 100, 300),
        new("lin_api_", "linear_api_key", Alnum, 40, 64),
        new("lin_oauth_", "linear_oauth_token", HexLower, 64, 64),
        new("ntn_", "notion_token", Alnum, 40, 50, TokenCheck.Digit),
        new("secret_", "notion_token", Alnum, 43, 43, TokenCheck.Digit | TokenCheck.MixedCase),
        new("figd_", "figma_token", Base64Url, 40, 60),
        new("CFPAT-", "contentful_token", Base64Url, 43, 43),
        // Payments and commerce
        new("sk_live_", "stripe_secret_key", Alnum, 16, 247),
        new("sk_test_", "stripe_secret_key", Alnum, 16, 247),
        new("rk_live_", "stripe_restricted_key", Alnum, 16, 247),
        new("rk_test_", "stripe_restricted_key", Alnum, 16, 247),
        new("whsec_", "stripe_webhook_secret", Base64StdPad, 24, 100),
        new("sq0atp-", "square_token", Base64Url, 22, 60),
        new("sq0csp-", "square_token", Base64Url, 22, 60),
        new("sq0idp-", "square_token", Base64Url, 22, 60),
        new("EAA", "meta_or_square_access_token", Base64Url, 60, 300, TokenCheck.Digit | TokenCheck.MixedCase),
        new("access_token$production$", "braintree_access_token", BraintreeChars, 40, 60, TokenCheck.Shape),
        new("access_token$sandbox$", "braintree_access_token", BraintreeChars, 40, 60, TokenCheck.Shape),
        new("shpat_", "shopify_token", HexAny, 32, 32),
        new("shpss_", "shopify_token", HexAny, 32, 32),
        new("shpca_", "shopify_token", HexAny, 32, 32),
        new("shppa_", "shopify_token", HexAny, 32, 32),
        new("shippo_live_", "shippo_api_token", HexLower, 40, 40),
        new("shippo_test_", "shippo_api_token", HexLower, 40, 40),
        // AI providers
        new("sk-proj-", "openai_api_key", Base64Url, 20, 400, TokenCheck.Digit),
        new("sk-svcacct-", "openai_api_key", Base64Url, 20, 400, TokenCheck.Digit),
        new("sk-admin-", "openai_api_key", Base64Url, 20, 400, TokenCheck.Digit),
        new("sk-None-", "openai_api_key", Base64Url, 20, 400, TokenCheck.Digit),
        new("sk-ant-", "anthropic_api_key", Base64Url, 32, 300, TokenCheck.Digit),
        new("sk-or-v1-", "openrouter_api_key", HexLower, 64, 64),
        new("sk-", "sk_api_key", Alnum, 32, 128, TokenCheck.Digit | TokenCheck.Entropy),
        new("hf_", "huggingface_token", Alnum, 30, 40, TokenCheck.MixedCase),
        new("api_org_", "huggingface_org_token", Alnum, 30, 40, TokenCheck.MixedCase),
        new("gsk_", "groq_api_key", Alnum, 48, 56, TokenCheck.Digit),
        new("xai-", "xai_api_key", Alnum, 70, 90, TokenCheck.Digit),
        new("r8_", "replicate_api_token", Alnum, 37, 37, TokenCheck.Digit),
        new("pplx-", "perplexity_api_key", Alnum, 48, 48, TokenCheck.Digit),
        new("lsv2_pt_", "langsmith_api_key", AlnumUnderscore, 43, 43),
        new("lsv2_sk_", "langsmith_api_key", AlnumUnderscore, 43, 43),
        // Messaging, e-mail, telephony
        new("SG.", "sendgrid_api_key", Base64UrlDot, 60, 70, TokenCheck.Shape),
        new("key-", "mailgun_api_key", Alnum, 32, 32, TokenCheck.Digit),
        new("SK", "twilio_api_key", HexAny, 32, 32, TokenCheck.Digit),
        new("xkeysib-", "brevo_api_key", AlnumDash, 81, 81),
        // Developer platforms and infrastructure
        new("dapi", "databricks_token", HexDash, 32, 35, TokenCheck.Shape),
        new("dp.pt.", "doppler_token", Base64Url, 40, 44),
        new("dp.st.", "doppler_token", Base64Url, 40, 44),
        new("dp.ct.", "doppler_token", Base64Url, 40, 44),
        new("dp.sa.", "doppler_token", Base64Url, 40, 44),
        new("dp.scim.", "doppler_token", Base64Url, 40, 44),
        new("dp.audit.", "doppler_token", Base64Url, 40, 44),
        new("hvs.", "vault_token", Base64Url, 24, 200),
        new("hvb.", "vault_token", Base64Url, 24, 400),
        new("hvr.", "vault_token", Base64Url, 24, 200),
        new("glsa_", "grafana_service_account_token", AlnumUnderscore, 41, 41, TokenCheck.Shape),
        new("glc_", "grafana_cloud_token", Base64StdPad, 32, 400),
        new("AGE-SECRET-KEY-1", "age_secret_key", Bech32Upper, 58, 58),
        new("pscale_tkn_", "planetscale_token", Base64UrlDot, 32, 64),
        new("pscale_pw_", "planetscale_password", Base64UrlDot, 32, 64),
        new("pscale_oauth_", "planetscale_token", Base64UrlDot, 32, 64),
        new("PMAK-", "postman_api_key", HexDash, 59, 59),
        new("pul-", "pulumi_access_token", HexLower, 40, 40),
        new("NRAK-", "newrelic_api_key", UpperAlnum, 27, 27),
        new("sntrys_", "sentry_token", Base64Any, 40, 400),
        new("sntryu_", "sentry_token", HexLower, 64, 64),
        new("sbp_", "supabase_token", HexLower, 40, 40),
        new("sk.eyJ", "mapbox_secret_token", Base64UrlDot, 60, 400),
        new("tskey-", "tailscale_key", AlnumDash, 30, 100, TokenCheck.Digit),
        new("nfp_", "netlify_token", Alnum, 36, 40, TokenCheck.Digit),
        new("bkua_", "buildkite_token", HexLower, 40, 40),
        new("ops_eyJ", "onepassword_service_account_token", Base64UrlDot, 100, 2048),
    ];

    /// <summary>The webhook URL formats (checked where "://" occurs).</summary>
    public static readonly TokenSpec[] WebhookSpecs = All.Where(s => s.Prefix.StartsWith("https://", StringComparison.Ordinal)).ToArray();

    /// <summary>
    /// Applies <paramref name="spec"/> at <paramref name="position"/> (where its prefix starts).
    /// Returns the token's exclusive end, or -1 when the text there is not a valid token of this format.
    /// </summary>
    public static int Match(string text, int position, TokenSpec spec, ref int contextState)
    {
        if (position > 0 && IsAsciiLetterOrDigit(text[position - 1])) return -1;
        var bodyStart = position + spec.Prefix.Length;
        var rest = text.AsSpan(bodyStart);
        var len = rest.IndexOfAnyExcept(spec.Body);
        if (len < 0) len = rest.Length;

        // A body that may contain '.' does not end a sentence with it.
        while (len > spec.Min && rest[len - 1] == '.') len--;
        if (len < spec.Min || len > spec.Max) return -1;
        var end = bodyStart + len;
        if (end < text.Length && IsAsciiLetterOrDigit(text[end])) return -1;

        var body = rest[..len];
        var token = text.AsSpan(position, end - position);
        if (IsLowVarietyBody(body)) return -1;
        if (IsPlaceholderOrReference(token)) return -1;
        if ((spec.Checks & TokenCheck.Digit) != 0 && !HasDigit(body)) return -1;
        if ((spec.Checks & TokenCheck.MixedCase) != 0 && !HasUpperAndLower(body)) return -1;
        if ((spec.Checks & TokenCheck.Entropy) != 0 && Entropy(body) < 3.0) return -1;
        if ((spec.Checks & TokenCheck.Shape) != 0 && !ShapeOk(spec.Kind, body)) return -1;
        if ((spec.Checks & TokenCheck.Context) != 0)
        {
            // 0 = not looked up, 1 = present, 2 = absent; computed once per text.
            if (contextState == 0)
            {
                contextState = text.Contains(spec.Context!, StringComparison.OrdinalIgnoreCase) ? 1 : 2;
            }

            if (contextState != 1) return -1;
        }

        return end;
    }

    /// <summary>Kind-specific structure of the body.</summary>
    public static bool ShapeOk(string kind, ReadOnlySpan<char> body)
    {
        switch (kind)
        {
            case "aws_access_key":
            {
                // Key IDs are base32 (A-Z, 2-7): most have a digit, but about 4 % have none. A body
                // without one is accepted unless it reads like upper-case words: random base32 letters
                // are ~16 % vowels, English ~40 % ("ASIAPACIFICSALESTEAM").
                if (HasDigit(body)) return true;
                var vowels = 0;
                foreach (var c in body)
                {
                    if (c is 'A' or 'E' or 'I' or 'O' or 'U') vowels++;
                }

                return vowels * 16 <= body.Length * 5;
            }

            case "sendgrid_api_key":
            {
                // SG.<22>.<43>
                var dot = body.IndexOf('.');
                return dot == 22 && body.Length - dot - 1 == 43 && body[(dot + 1)..].IndexOf('.') < 0;
            }

            case "braintree_access_token":
            {
                // <16 lowercase alnum>$<32 hex>
                var dollar = body.IndexOf('$');
                return dollar == 16 && body.Length - dollar - 1 == 32 && !body[(dollar + 1)..].ContainsAnyExcept(HexLower);
            }

            case "discord_webhook":
            {
                // <17-20 digit id>/<60-68 token>
                var slash = body.IndexOf('/');
                if (slash is < 17 or > 20) return false;
                if (body[..slash].ContainsAnyExceptInRange('0', '9')) return false;
                var tok = body[(slash + 1)..];
                return tok.Length is >= 60 and <= 68 && tok.IndexOf('/') < 0;
            }

            case "databricks_token":
            {
                // dapi<32 hex>[-<digit(s)>]
                if (body.Length == 32) return !body.Contains('-') && HasDigit(body);
                return body.Length > 33 && body[32] == '-' && !body[..32].Contains('-')
                    && !body[33..].ContainsAnyExceptInRange('0', '9');
            }

            case "grafana_service_account_token":
            {
                // glsa_<32 alnum>_<8 hex>
                return body.Length == 41 && body[32] == '_' && !body[..32].Contains('_')
                    && !body[33..].ContainsAnyExcept(HexAny);
            }

            default:
                return true;
        }
    }
}
