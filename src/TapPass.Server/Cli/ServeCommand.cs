using System.Data.Common;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace TapPass.Server.Cli;

/// <summary>The <c>serve</c> verb: runs the gateway until stopped.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        // No reload-on-change of appsettings*.json: the settings are read once at start-up, and the file watcher on the
        // content root would otherwise wake up on every write of an audit database kept there (the default path).
        var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        ServerComposition.Configure(builder);
        await using var app = builder.Build();
        string? developmentKey;
        try
        {
            ServerComposition.MapEndpoints(app);
            developmentKey = ServerComposition.AddDevelopmentKeyIfNoneConfigured(app.Services);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OptionsValidationException or IOException or UnauthorizedAccessException or DbException or CryptographicException)
        {
            // Configuration and start-up messages name settings, never their secret values.
            await Console.Error.WriteLineAsync("tappass: cannot start: " + ex.Message);
            return 1;
        }

        if (developmentKey is not null)
        {
            await Console.Out.WriteLineAsync($"""

                ==================================================================================
                 TapPass DEVELOPMENT API key (no keys are configured; valid until this server stops).
                 Agent dev-agent, org dev, tier full, roles agent + approver + admin.

                   {developmentKey}

                 For real use configure TapPass:Gateway:Keys (or TAPPASS_GATEWAY__KEYS__0__KEYSHA256=...,
                 TAPPASS_GATEWAY__KEYS__0__AGENTID=...); `tappass keygen` makes a key and its hash.
                ==================================================================================

                """);
        }

        await app.RunAsync();
        return 0;
    }
}
