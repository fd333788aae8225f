using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TapPass.Gateway.Tests.Fakes;
using TapPass.Governance;
using TapPass.Protocol;
using TapPass.Server;
using TapPass.Transport;

namespace TapPass.Gateway.Tests.Server;

/// <summary>The real host (Program → serve → ServerComposition) with the engine replaced by the test fakes.</summary>
public sealed class ServerHostTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tappass-server-" + Guid.NewGuid().ToString("N"));
    private WebApplicationFactory<ServerOptions> _factory = null!;
    private FakeAdmin _admin = null!;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _admin = new FakeAdmin();
        _factory = new WebApplicationFactory<ServerOptions>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("TapPass:Audit:Path", Path.Combine(_directory, "audit.db"));
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton<ITapPassTransport>(new FakeTransport());
                services.AddSingleton<IGatewayAdmin>(_admin);
            });
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        _admin.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Host_ServesHealthReadinessJwksAndAuditFromTheConfiguredDatabase()
    {
        using var client = _factory.CreateClient();

        using var health = await client.GetAsync("/health");
        (await Wire.Read(health, TapPassJsonContext.Default.HealthResponse)).ApiVersion.Should().Be("0.6.0");

        using var ready = await client.GetAsync("/health/ready");
        ready.StatusCode.Should().Be(HttpStatusCode.OK);
        File.Exists(Path.Combine(_directory, "audit.db")).Should().BeTrue();
        File.Exists(Path.Combine(_directory, "audit.db.signing-key.pem")).Should().BeTrue();

        using var jwks = await client.GetAsync("/.well-known/jwks.json");
        JsonDocument.Parse(await jwks.Content.ReadAsStringAsync()).RootElement.GetProperty("keys").GetArrayLength().Should().Be(2);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/audit/verify");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", FakeAdmin.AdminKey);
        using var verify = await client.SendAsync(request);
        verify.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Host_ChatRoutesThroughTheRegisteredEngine()
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Wire.Chat("hi"), System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", FakeAdmin.AgentKey);

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
