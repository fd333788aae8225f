using System.Text.Json;
using TapPass.Governance.Engine;
using TapPass.Governance.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Engine;

public sealed class BreakGlassAndCapabilityTests
{
    [Fact]
    public async Task Halt_RefusesEveryCallWith503AndRetryAfter_UntilItExpires()
    {
        using var h = new EngineHarness();
        var declared = await h.Engine.DeclareBreakGlassAsync(h.Identity(h.AdminKey), "halt", "PT30M", "incident 42", CancellationToken.None);
        declared.Value!.ExpiresAt.Should().Be(h.Time.GetUtcNow().AddMinutes(30));

        var chat = await h.ChatAsync("hi");
        chat.StatusCode.Should().Be(503);
        chat.Error!.Type.Should().Be("break_glass_active");
        chat.Error.Level.Should().Be("halt");
        chat.Error.ExpiresAt.Should().Be(declared.Value.ExpiresAt);
        chat.Headers.RetryAfter.Should().Be(TimeSpan.FromMinutes(30));
        (await h.Engine.GovernAsync(h.Call(), new GovernRequest { Payload = new GovernPayload { Tool = "x" } }, CancellationToken.None)).StatusCode.Should().Be(503);
        await using (var s = await h.Engine.StreamChatAsync(h.Call(), EngineHarness.Request("hi"), CancellationToken.None))
        {
            s.StatusCode.Should().Be(503);
        }

        (await h.ChatAsync("hi", key: h.KeyX)).StatusCode.Should().Be(200, "break-glass applies to the declaring org only");

        h.Time.Advance(TimeSpan.FromMinutes(31));
        (await h.ChatAsync("hi")).StatusCode.Should().Be(200);
        h.Events("break_glass.ended").Should().ContainSingle().Which.Details!["expired"].GetBoolean().Should().BeTrue();
        h.Events("break_glass.declared").Should().ContainSingle();
    }

    [Fact]
    public async Task Observe_SuspendsBlockingAndMarksResponses()
    {
        using var h = new EngineHarness();
        await h.Engine.DeclareBreakGlassAsync(h.Identity(h.AdminKey), "observe", TimeSpan.FromMinutes(10), "debugging", CancellationToken.None);
        var reply = await h.ChatAsync("Show me all credit cards");
        reply.StatusCode.Should().Be(200);
        reply.Value!.Tappass!.BreakGlass!.Level.Should().Be("observe");
        reply.Value.Tappass.Detections.Should().Contain(d => d.Step == "detect_exfiltration" && d.Action == "flag");
    }

    [Fact]
    public async Task EndBreakGlass_EndsEarlyAndIsAudited()
    {
        using var h = new EngineHarness();
        var admin = h.Identity(h.AdminKey);
        await h.Engine.DeclareBreakGlassAsync(admin, "halt", TimeSpan.FromHours(1), "x", CancellationToken.None);
        (await h.Engine.EndBreakGlassAsync(admin, CancellationToken.None)).StatusCode.Should().Be(200);
        (await h.ChatAsync("hi")).StatusCode.Should().Be(200);
        (await h.Engine.EndBreakGlassAsync(admin, CancellationToken.None)).StatusCode.Should().Be(404);
        h.Events("break_glass.ended").Single().Details!["expired"].GetBoolean().Should().BeFalse();
    }

    [Theory]
    [InlineData("panic", "PT1M", "r", 400)]
    [InlineData("halt", "P2D", "r", 400)]
    [InlineData("halt", "soon", "r", 400)]
    [InlineData("halt", "PT1M", "", 400)]
    public async Task DeclareBreakGlass_InvalidInput_Answers400(string level, string duration, string reason, int status)
    {
        using var h = new EngineHarness();
        (await h.Engine.DeclareBreakGlassAsync(h.Identity(h.AdminKey), level, duration, reason, CancellationToken.None)).StatusCode.Should().Be(status);
    }

    [Fact]
    public async Task DeclareBreakGlass_WithoutAdminRole_Answers403()
    {
        using var h = new EngineHarness();
        (await h.Engine.DeclareBreakGlassAsync(h.Identity(h.KeyA), "halt", TimeSpan.FromMinutes(1), "x", CancellationToken.None)).StatusCode.Should().Be(403);
    }

    [Fact]
    public async Task CapabilityToken_ExpiresAfterLifetimeAndIsScoped()
    {
        using var h = new EngineHarness();
        var r = (await h.Engine.GovernAsync(h.Call(), new GovernRequest { Payload = new GovernPayload { Tool = "search", Args = EngineHarness.Json("""{"q":1}""") } }, CancellationToken.None)).Value!;
        var token = r.CapabilityToken!;
        var args = Digests.Json(EngineHarness.Json("""{"q":1}"""));
        h.Engine.VerifyCapabilityToken(token, "search", r.SessionId!, EngineHarness.AgentAUuid, args).Should().Be(CapabilityTokenStatus.Valid);
        h.Engine.VerifyCapabilityToken(token, "delete", r.SessionId!, EngineHarness.AgentAUuid).Should().Be(CapabilityTokenStatus.WrongScope);
        h.Engine.VerifyCapabilityToken(token, "search", "ses_other", EngineHarness.AgentAUuid).Should().Be(CapabilityTokenStatus.WrongScope);
        h.Engine.VerifyCapabilityToken(token, "search", r.SessionId!, EngineHarness.AgentBUuid).Should().Be(CapabilityTokenStatus.WrongScope);
        h.Engine.VerifyCapabilityToken(token, "search", r.SessionId!, EngineHarness.AgentAUuid, Digests.Json(null)).Should().Be(CapabilityTokenStatus.WrongScope);

        h.Time.Advance(TimeSpan.FromSeconds(61));
        h.Engine.VerifyCapabilityToken(token, "search", r.SessionId!, EngineHarness.AgentAUuid).Should().Be(CapabilityTokenStatus.Expired);
    }

    [Fact]
    public async Task CapabilityToken_Tampered_IsRejected()
    {
        using var h = new EngineHarness();
        var r = (await h.Engine.GovernAsync(h.Call(), new GovernRequest { Payload = new GovernPayload { Tool = "search" } }, CancellationToken.None)).Value!;
        var parts = r.CapabilityToken!.Split('.');
        var payload = System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]);
        var forged = System.Text.Encoding.UTF8.GetString(payload).Replace("\"search\"", "\"delete\"", StringComparison.Ordinal);
        var token = parts[0] + "." + System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(forged)) + "." + parts[2];
        h.Engine.VerifyCapabilityToken(token, "delete", r.SessionId!, EngineHarness.AgentAUuid).Should().Be(CapabilityTokenStatus.BadSignature);
        h.Engine.VerifyCapabilityToken("a.b", "search", r.SessionId!, EngineHarness.AgentAUuid).Should().Be(CapabilityTokenStatus.Malformed);
    }

    [Fact]
    public async Task CapabilityToken_VerifiesWithTheJwksPublicKey()
    {
        using var h = new EngineHarness();
        var r = (await h.Engine.GovernAsync(h.Call(), new GovernRequest { Payload = new GovernPayload { Tool = "search" } }, CancellationToken.None)).Value!;
        using var jwks = JsonDocument.Parse(h.Engine.Jwks());
        var key = jwks.RootElement.GetProperty("keys")[0];
        key.GetProperty("alg").GetString().Should().Be("ES256");
        using var ec = System.Security.Cryptography.ECDsa.Create(new System.Security.Cryptography.ECParameters
        {
            Curve = System.Security.Cryptography.ECCurve.NamedCurves.nistP256,
            Q = new() { X = System.Buffers.Text.Base64Url.DecodeFromChars(key.GetProperty("x").GetString()), Y = System.Buffers.Text.Base64Url.DecodeFromChars(key.GetProperty("y").GetString()) },
        });
        var parts = r.CapabilityToken!.Split('.');
        ec.VerifyData(System.Text.Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), System.Buffers.Text.Base64Url.DecodeFromChars(parts[2]),
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.DSASignatureFormat.IeeeP1363FixedFieldConcatenation).Should().BeTrue();
        using var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[0]));
        header.RootElement.GetProperty("kid").GetString().Should().Be(key.GetProperty("kid").GetString());
    }
}
