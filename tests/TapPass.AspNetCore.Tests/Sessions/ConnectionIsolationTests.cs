using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TapPass.AspNetCore.Tests.Fakes;
using TapPass.Transport;

namespace TapPass.AspNetCore.Tests.Sessions;

/// <summary>
/// Isolation on a real Kestrel server, where requests share a connection (and the connection's execution flow):
/// HTTP/2 multiplexes concurrent requests on one connection; HTTP/1.1 keep-alive runs them one after another on it.
/// </summary>
public sealed class ConnectionIsolationTests
{
    private static async Task<(WebApplication App, Uri Address, Func<int> Connections)> StartKestrelAsync(HttpProtocols protocols)
    {
        var connections = 0;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = protocols;
            listen.Use(next => context =>
            {
                Interlocked.Increment(ref connections);
                return next(context);
            });
        }));
        builder.Services.AddSingleton<ITapPassTransport>(new FakeTransport());
        builder.Services.AddTapPass();
        var app = builder.Build();
        app.UseTapPass();
        app.MapGet("/echo", async (HttpContext ctx) =>
        {
            var expected = ctx.Request.Headers["X-TapPass-Session-Id"].ToString();
            var seen = TapPassSession.Current?.SessionId ?? "";
            await Task.Delay(Random.Shared.Next(0, 3));
            var after = TapPassSession.Current?.SessionId ?? "";
            return seen == expected && after == expected ? Results.Text(after) : Results.Problem($"leak: {seen}/{after}");
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return (app, address, () => Volatile.Read(ref connections));
    }

    private static HttpRequestMessage Echo(Uri address, Version version, string? sessionId)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(address, "/echo"))
        {
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (sessionId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-TapPass-Session-Id", sessionId);
        }

        return request;
    }

    [Fact]
    public async Task Http2_ConcurrentRequestsOnOneConnection_EachSeeOnlyTheirOwnSession()
    {
        var (app, address, connections) = await StartKestrelAsync(HttpProtocols.Http2);
        await using var _ = app;
        using var client = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = false });

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var id = i % 5 == 0 ? null : "ses_h2_" + i;
            using var response = await client.SendAsync(Echo(address, HttpVersion.Version20, id));
            return (id ?? "", response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        results.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK && r.Body == r.Item1);
        connections().Should().Be(1);
    }

    [Fact]
    public async Task Http11_SequentialRequestsOnOneKeepAliveConnection_NeverInheritTheLastSession()
    {
        var (app, address, connections) = await StartKestrelAsync(HttpProtocols.Http1);
        await using var _ = app;
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            var id = i % 2 == 0 ? null : "ses_h1_" + i;
            using var response = await client.SendAsync(Echo(address, HttpVersion.Version11, id));
            return (id ?? "", response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        results.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK && r.Body == r.Item1);
        connections().Should().Be(1);
    }
}
