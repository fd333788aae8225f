using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TapPass.Governance;
using TapPass.Governance.Audit;
using TapPass.Transport;

namespace TapPass.Gateway.Tests.Fakes;

/// <summary>The gateway over the fakes and a real audit database, in a TestServer.</summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    private readonly string _directory;

    private GatewayHost(WebApplication app, FakeTransport transport, FakeAdmin admin, SqliteAuditLog audit, string directory)
    {
        App = app;
        Transport = transport;
        Admin = admin;
        Audit = audit;
        _directory = directory;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public FakeTransport Transport { get; }

    public FakeAdmin Admin { get; }

    public SqliteAuditLog Audit { get; }

    public static async Task<GatewayHost> StartAsync(Action<TapPassGatewayOptions>? configure = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tappass-gw-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var transport = new FakeTransport();
        var admin = new FakeAdmin();
        var audit = SqliteAuditLog.Open(new AuditLogOptions { DatabasePath = Path.Combine(directory, "audit.db") }, TimeProvider.System, NullLogger<SqliteAuditLog>.Instance);

        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddTapPassGateway(configure);
        builder.Services.AddSingleton<ITapPassTransport>(transport);
        builder.Services.AddSingleton<IGatewayAdmin>(admin);
        builder.Services.AddSingleton<IAuditLog>(audit);
        var app = builder.Build();
        app.MapTapPassGateway();
        await app.StartAsync();
        return new GatewayHost(app, transport, admin, audit, directory);
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string? json = null, string? key = FakeAdmin.AgentKey)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
        await Audit.DisposeAsync();
        Admin.Dispose();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
