using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TapPass.Governance.Identity;
using TapPass.Server;

namespace TapPass.Gateway.Tests.EndToEnd;

/// <summary>A host without configured keys: the development key printed at start-up is an engine key with every role.</summary>
public sealed class DevelopmentKeyTests : IDisposable
{
    private readonly TapPassServer _server = new(configureKeys: false);

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task DevelopmentKey_IsAnAgentApproverAndAdminKeyOfOrgDev()
    {
        using var client = _server.CreateClient();
        _server.Services.GetRequiredService<ApiKeyStore>().Count.Should().Be(1, "serve registered one development key at start-up");

        var key = ServerComposition.AddDevelopmentKeyIfNoneConfigured(_server.Services);

        key.Should().NotBeNull();
        ApiKeyFormat.IsWellFormed(key).Should().BeTrue();

        using var chat = await client.SendAsync(TapPassServer.Request(HttpMethod.Post, "/v1/chat/completions", key, TapPassServer.ChatBody("hello")));
        chat.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Http.Json(chat)).GetProperty("tappass").Str("agent_uuid").Should().Be(ApiKeyStore.DevelopmentIdentity.AgentUuid);
        _server.Engine.TryAuthenticate(key, out var identity).Should().BeTrue();
        identity.Org.Should().Be("dev");
        identity.Roles.Should().Be(AgentRoles.Agent | AgentRoles.Approver | AgentRoles.Admin);

        using var declared = await client.SendAsync(TapPassServer.Request(HttpMethod.Post, "/v1/admin/break-glass", key, """{"level":"observe","duration":"PT1M","reason":"drill"}"""));
        declared.StatusCode.Should().Be(HttpStatusCode.OK, "the development key is an admin key");
        using var ended = await client.SendAsync(TapPassServer.Request(HttpMethod.Delete, "/v1/admin/break-glass", key));
        ended.StatusCode.Should().Be(HttpStatusCode.OK);

        using var verify = await client.SendAsync(TapPassServer.Request(HttpMethod.Get, "/v1/audit/verify", key));
        (await Http.Json(verify)).GetProperty("verified").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public void DevelopmentKey_IsNotAddedWhenKeysAreConfigured()
    {
        using var configured = new TapPassServer();

        ServerComposition.AddDevelopmentKeyIfNoneConfigured(configured.Services).Should().BeNull();
        configured.Services.GetRequiredService<ApiKeyStore>().Count.Should().Be(5);
    }
}
