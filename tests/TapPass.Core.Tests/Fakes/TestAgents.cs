using Microsoft.Extensions.Logging;

namespace TapPass.Core.Tests.Fakes;

/// <summary>Builds agents wired to fakes. The environment is empty unless given, so tests never read the process environment.</summary>
internal static class TestAgents
{
    public static TapPassAgentOptions Options(Action<TapPassAgentOptions>? configure = null)
    {
        var options = new TapPassAgentOptions { Url = FakeGateway.Url, ApiKey = FakeGateway.ApiKey };
        configure?.Invoke(options);
        return options;
    }

    public static TapPassAgent Create(
        FakeGateway gateway,
        Action<TapPassAgentOptions>? configure = null,
        TimeProvider? time = null,
        Func<string, string?>? environment = null,
        ILoggerFactory? loggerFactory = null,
        Func<double>? jitter = null,
        GatewayVerificationCache? verifiedGateways = null) =>
        new(Options(configure), environment ?? NoEnvironment, gateway.CreateClient(), null, loggerFactory, time, jitter ?? (() => 1.0),
            verifiedGateways ?? new GatewayVerificationCache());

    public static string? NoEnvironment(string name) => null;

    public static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;
}
