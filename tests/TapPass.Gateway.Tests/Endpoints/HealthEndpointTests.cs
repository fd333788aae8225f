using System.Net;
using System.Text.Json;
using TapPass.Gateway.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.Gateway.Tests.Endpoints;

public sealed class HealthEndpointTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("/health")]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_ReportsHealthyAndApiVersion(string path)
    {
        using var response = await _host.Client.GetAsync(path);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var health = await Wire.Read(response, TapPassJsonContext.Default.HealthResponse);
        health.Status.Should().Be("healthy");
        health.ApiVersion.Should().Be("0.6.0");
        health.Version.Should().MatchRegex("^[0-9]+\\.[0-9]+\\.[0-9]+");
    }

    [Fact]
    public async Task Jwks_PublishesEngineAndAuditKeys()
    {
        using var response = await _host.Client.GetAsync("/.well-known/jwks.json");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var keys = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("keys");
        keys.GetArrayLength().Should().Be(2);
        keys.EnumerateArray().Select(k => k.GetProperty("kid").GetString()).Should().Contain(_host.Audit.PublicKey.Kid);
        keys.EnumerateArray().Should().OnlyContain(k => k.GetProperty("kty").GetString() == "EC" && k.GetProperty("alg").GetString() == "ES256");
        keys.EnumerateArray().Select(k => k.TryGetProperty("d", out var d)).Should().OnlyContain(hasPrivate => !hasPrivate);
    }

    [Fact]
    public async Task Health_Post_Returns405Envelope()
    {
        using var response = await _host.Client.PostAsync("/health", null);

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        (await Wire.ErrorOf(response)).Message.Should().Contain("GET");
    }
}
