using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace TapPass.AspNetCore;

/// <summary>
/// Binds <see cref="TapPassOptions"/> from the <c>TapPass</c> section, then fills values the section left unset from
/// the <c>TAPPASS_*</c> variables (read through <see cref="IConfiguration"/>, which holds the environment in a
/// default host). Runs before any <c>configure</c> callback.
/// </summary>
internal sealed class TapPassOptionsSetup(IConfiguration? configuration = null) : IConfigureOptions<TapPassOptions>
{
    public void Configure(TapPassOptions options)
    {
        if (configuration is null)
        {
            return;
        }

        configuration.GetSection(TapPassOptions.SectionName).Bind(options);
        options.Url = Fallback(options.Url, "TAPPASS_URL");
        options.ApiKey = Fallback(options.ApiKey, "TAPPASS_API_KEY");
        options.Flags = Fallback(options.Flags, "TAPPASS_FLAGS");
        options.Model = Fallback(options.Model, "TAPPASS_MODEL");
        options.AgentUuid = Fallback(options.AgentUuid, "TAPPASS_AGENT_UUID");
    }

    private string? Fallback(string? value, string variable) =>
        string.IsNullOrEmpty(value) ? NullIfEmpty(configuration![variable]) : value;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
