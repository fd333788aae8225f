using TapPass.Governance.Identity;

namespace TapPass.Server.Cli;

/// <summary>The <c>keygen</c> verb: prints a new API key and the SHA-256 to configure in its place.</summary>
internal static class KeygenCommand
{
    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var key = ApiKeyFormat.Generate();
        await output.WriteLineAsync($"""
            key:        {key}
            key_sha256: {ApiKeyFormat.Hash(key)}

            Give the key to the agent (TAPPASS_API_KEY) and configure only its hash on the gateway, e.g.
              TAPPASS_GATEWAY__KEYS__0__KEYSHA256={ApiKeyFormat.Hash(key)}
              TAPPASS_GATEWAY__KEYS__0__AGENTID=my-agent
            """);
        return 0;
    }
}
