using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TapPass.Transport;

namespace TapPass.AspNetCore;

/// <summary>Validates <see cref="TapPassOptions"/> at start-up. Messages name settings, never secret values.</summary>
internal sealed class TapPassOptionsValidator(IServiceProviderIsService? services = null) : IValidateOptions<TapPassOptions>
{
    private const int MaxUrlLength = 2048;
    private const int MaxApiKeyLength = 512;
    private const int MaxModelLength = 256;

    public ValidateOptionsResult Validate(string? name, TapPassOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var embedded = services?.IsService(typeof(ITapPassTransport)) == true;

        if (string.IsNullOrEmpty(options.Url))
        {
            if (!embedded)
            {
                failures.Add("TapPass:Url (TAPPASS_URL) is not set and no ITapPassTransport is registered. Set it to your gateway, " +
                             "e.g. http://localhost:9620, or run the gateway in-process with builder.Services.AddTapPassEmbeddedGateway().");
            }
        }
        else if (options.Url.Length > MaxUrlLength ||
                 !Uri.TryCreate(options.Url, UriKind.Absolute, out var uri) ||
                 (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) ||
                 !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            failures.Add("TapPass:Url (TAPPASS_URL) must be an absolute http(s) URL without query, fragment or credentials, e.g. http://localhost:9620.");
        }

        if (options.ApiKey is { } key)
        {
            if (!IsWellFormedApiKey(key))
            {
                failures.Add($"TapPass:ApiKey (TAPPASS_API_KEY) must start with 'tp_' and be at most {MaxApiKeyLength} printable characters without spaces.");
            }
        }
        else if (!embedded && !string.IsNullOrEmpty(options.Url))
        {
            failures.Add("TapPass:ApiKey (TAPPASS_API_KEY) is required with TapPass:Url: the gateway authenticates every call.");
        }

        if (!GovernanceFlags.TryParse(options.Flags, out _, out var flagError))
        {
            failures.Add($"TapPass:Flags (TAPPASS_FLAGS) is invalid: {flagError!.Message}");
        }

        if (options.Model is { } model && (model.Length is 0 or > MaxModelLength || model.Any(char.IsControl)))
        {
            failures.Add($"TapPass:Model (TAPPASS_MODEL) must be 1-{MaxModelLength} characters without control characters.");
        }

        if (options.AgentUuid is not null && !TapPassSession.IsWellFormedAgentUuid(options.AgentUuid))
        {
            failures.Add("TapPass:AgentUuid (TAPPASS_AGENT_UUID) must be a UUID such as 3f2b7c1e-0000-4000-8000-000000000001.");
        }

        if (options.Timeout < TimeSpan.FromSeconds(1) || options.Timeout > TimeSpan.FromMinutes(10))
        {
            failures.Add("TapPass:Timeout must be between 00:00:01 and 00:10:00.");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            failures.Add("TapPass:MaxRetries must be between 0 and 10.");
        }

        if (options.MaxHistoryMessages is < 1 or > 10_000)
        {
            failures.Add("TapPass:MaxHistoryMessages must be between 1 and 10000.");
        }

        if (options.BreakGlassRetryAfter < TimeSpan.FromSeconds(1) || options.BreakGlassRetryAfter > TimeSpan.FromDays(1))
        {
            failures.Add("TapPass:BreakGlassRetryAfter must be between 00:00:01 and 1.00:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsWellFormedApiKey(string key)
    {
        if (key.Length is < 4 or > MaxApiKeyLength || !key.StartsWith("tp_", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in key)
        {
            if (c is <= ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}
