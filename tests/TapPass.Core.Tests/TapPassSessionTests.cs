using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests;

public sealed class TapPassSessionTests
{
    [Fact]
    public async Task ChatInsideScope_SendsSessionHeaders_AndRecordsReturnedIds()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        using (var scope = TapPassSession.Begin(agentUuid: FakeGateway.AgentUuid, taskId: "tsk_7"))
        {
            var first = await agent.ChatAsync("one");
            scope.Session.SessionId.Should().Be(first.SessionId);
            scope.Session.AuditUrl.Should().Be(first.AuditUrl);
            await agent.ChatAsync("two");
        }

        var requests = gateway.ChatRequests;
        requests[0].Header("X-TapPass-Session-Id").Should().BeNull("the gateway opens the session on the first call");
        requests[0].Header("X-TapPass-Agent-Uuid").Should().Be(FakeGateway.AgentUuid);
        requests[0].Header("X-TapPass-Task-Id").Should().Be("tsk_7");
        requests[1].Header("X-TapPass-Session-Id").Should().StartWith("ses_", "the observed id is sent on later calls");
    }

    [Fact]
    public async Task ExplicitPerCallIds_WinOverAmbientSession()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway, o => o.AgentUuid = "00000000-0000-4000-8000-000000000001");
        using var scope = TapPassSession.Begin("ses_ambient", "00000000-0000-4000-8000-000000000002", "tsk_ambient");

        await agent.ChatAsync("x", new TapPassChatOptions { SessionId = "ses_explicit", AgentUuid = FakeGateway.AgentUuid, TaskId = "tsk_explicit" });
        await agent.ChatAsync("y");

        var explicitCall = gateway.ChatRequests[0];
        explicitCall.Header("X-TapPass-Session-Id").Should().Be("ses_explicit");
        explicitCall.Header("X-TapPass-Agent-Uuid").Should().Be(FakeGateway.AgentUuid);
        explicitCall.Header("X-TapPass-Task-Id").Should().Be("tsk_explicit");
        var ambientCall = gateway.ChatRequests[1];
        ambientCall.Header("X-TapPass-Session-Id").Should().Be("ses_ambient");
        ambientCall.Header("X-TapPass-Agent-Uuid").Should().Be("00000000-0000-4000-8000-000000000002");
        ambientCall.Header("X-TapPass-Task-Id").Should().Be("tsk_ambient");
    }

    [Fact]
    public async Task AfterScopeDispose_NoSessionHeadersLeak_EvenToFlowsStartedInsideTheScope()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        var release = new TaskCompletionSource();
        Task leaked;

        using (TapPassSession.Begin("ses_scoped"))
        {
            await agent.ChatAsync("inside");
            leaked = Task.Run(async () =>
            {
                await release.Task;
                await agent.ChatAsync("leaked continuation");
            });
        }

        release.SetResult();
        await leaked;
        await agent.ChatAsync("after");

        TapPassSession.Current.Should().BeNull();
        gateway.ChatRequests[0].Header("X-TapPass-Session-Id").Should().Be("ses_scoped");
        gateway.ChatRequests[1].Header("X-TapPass-Session-Id").Should().BeNull();
        gateway.ChatRequests[2].Header("X-TapPass-Session-Id").Should().BeNull();
    }

    [Fact]
    public async Task StreamInsideScope_SendsAndObservesIds()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        using var scope = TapPassSession.Begin();

        var response = await agent.StreamAsync("s").ToResponseAsync();

        scope.Session.SessionId.Should().Be(response.SessionId).And.StartWith("ses_");
    }

    [Fact]
    public void NestedScopes_RestoreOuterOnDispose()
    {
        using var outer = TapPassSession.Begin("ses_outer");
        using (var inner = TapPassSession.Begin("ses_inner"))
        {
            TapPassSession.Current.Should().BeSameAs(inner.Session);
        }

        TapPassSession.Current!.SessionId.Should().Be("ses_outer");
    }

    [Fact]
    public async Task LeakedContinuation_OfAnEndedScope_SeesNull_EvenThoughItsContextStillHoldsTheSession()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource<TapPassSession?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<(TapPassSession? Before, TapPassSession? After)> leaked;
        TapPassSession session;
        using (var scope = TapPassSession.Begin("ses_leak"))
        {
            session = scope.Session;
            leaked = Task.Run(async () =>
            {
                started.SetResult(TapPassSession.Current);
                await release.Task;
                return (await started.Task, TapPassSession.Current);
            });

            // The leaked work has read the session while the scope was still open.
            await started.Task;
        }

        release.SetResult();
        var (before, after) = await leaked;

        before.Should().BeSameAs(session);
        after.Should().BeNull("the scope ended; the flow that captured it must not see a stale session");
    }

    [Fact]
    public async Task LeakedContinuation_OfAnEndedInnerScope_SeesNull_NotTheOuterSession()
    {
        using var outer = TapPassSession.Begin("ses_outer2");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<TapPassSession?> leaked;
        using (TapPassSession.Begin("ses_inner2"))
        {
            leaked = Task.Run(async () =>
            {
                await release.Task;
                return TapPassSession.Current;
            });
        }

        TapPassSession.Current.Should().BeSameAs(outer.Session);
        release.SetResult();
        (await leaked).Should().BeNull("its captured session is the inner one, which has ended");
    }

    [Fact]
    public void NestedScopes_ThreeLevels_EachDisposeRestoresItsOuter_AndOuterSessionsStayLive()
    {
        using var first = TapPassSession.Begin("ses_l1");
        var second = TapPassSession.Begin("ses_l2");
        var third = TapPassSession.Begin("ses_l3");
        TapPassSession.Current.Should().BeSameAs(third.Session);

        third.Dispose();
        TapPassSession.Current.Should().BeSameAs(second.Session);
        second.Dispose();
        TapPassSession.Current.Should().BeSameAs(first.Session);
    }

    [Fact]
    public void DisposingACopyOfAScopeTwice_EndsItOnce_AndDoesNotUndoALaterScope()
    {
        using var outer = TapPassSession.Begin("ses_o");
        var scope = TapPassSession.Begin("ses_s");
        var copy = scope;
        scope.Dispose();
        using var later = TapPassSession.Begin("ses_later");

        copy.Dispose();

        TapPassSession.Current.Should().BeSameAs(later.Session, "a second dispose of the same scope must not restore its outer session over a newer scope");
    }

    [Fact]
    public void Dispose_InAFlowWhereTheScopeWasBegunByASynchronousCaller_RestoresTheOuterSession()
    {
        TapPassSessionScope Start() => TapPassSession.Begin("ses_sync_helper");

        using var outer = TapPassSession.Begin("ses_sync_outer");
        using (var inner = Start())
        {
            TapPassSession.Current.Should().BeSameAs(inner.Session, "a scope begun in a synchronous helper stays ambient in its caller");
        }

        TapPassSession.Current.Should().BeSameAs(outer.Session);
    }

    [Fact]
    public void DefaultScope_DisposeDoesNothing_AndSessionThrows()
    {
        using var outer = TapPassSession.Begin("ses_default");
        var empty = default(TapPassSessionScope);

        empty.Dispose();

        TapPassSession.Current.Should().BeSameAs(outer.Session);
        FluentActions.Invoking(() => empty.Session).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public async Task Enter_WithinAnAsyncMethod_IsUndoneForTheCallerByTheMethodReturn_AndTryEndHidesItFromCapturedFlows()
    {
        TapPassSession? seenInside = null;
        var captured = new List<Task<TapPassSession?>>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task RunAsync(bool yield)
        {
            var session = TapPassSession.Enter("ses_enter", null, null, autoOpened: false);
            try
            {
                captured.Add(Task.Run(async () =>
                {
                    await release.Task;
                    return TapPassSession.Current;
                }));
                if (yield)
                {
                    await Task.Yield();
                }

                seenInside = TapPassSession.Current;
            }
            finally
            {
                session.TryEnd();
            }
        }

        foreach (var yield in new[] { false, true })
        {
            TapPassSession.Current.Should().BeNull();
            var run = RunAsync(yield);
            TapPassSession.Current.Should().BeNull("the async method's return restores the caller's context, synchronous completion or not");
            await run;
            TapPassSession.Current.Should().BeNull();
            seenInside!.SessionId.Should().Be("ses_enter");
        }

        release.SetResult();
        (await Task.WhenAll(captured)).Should().HaveCount(2).And.OnlyContain(s => s == null);
    }

    [Fact]
    public void Begin_MalformedIds_Throw()
    {
        FluentActions.Invoking(() => TapPassSession.Begin("ses bad")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => TapPassSession.Begin(agentUuid: "x")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => TapPassSession.Begin(taskId: new string('t', 129))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Observe_NeverReplacesAnIdAlreadySet_AndIgnoresMalformedIds()
    {
        using var scope = TapPassSession.Begin("ses_given", autoOpened: true, agentUuid: null, taskId: null);

        scope.Session.Observe("ses_other", "not-a-uuid", FakeGateway.Url + "/audit/sessions/ses_other");
        scope.Session.ObserveTask("tsk 1");
        scope.Session.ObserveTask("tsk_1");

        scope.Session.SessionId.Should().Be("ses_given");
        scope.Session.AgentUuid.Should().BeNull();
        scope.Session.AuditUrl.Should().BeNull();
        scope.Session.TaskId.Should().Be("tsk_1");
        scope.Session.AutoOpened.Should().BeTrue();
    }

    [Theory]
    [InlineData("01234567-89ab-cdef-0123-456789abcdef", true)]
    [InlineData("01234567-89AB-CDEF-0123-456789ABCDEF", true)]
    [InlineData("0x234567-89ab-cdef-0123-456789abcdef", false)]
    [InlineData("01234567-89ab-cdef-0x23-456789abcdef", false)]
    [InlineData("{1234567-89ab-cdef-0123-456789abcdef", false)]
    [InlineData("0123456789abcdef0123456789abcdef0123", false)]
    [InlineData(" 1234567-89ab-cdef-0123-456789abcdef", false)]
    public void IsWellFormedAgentUuid_AcceptsOnlyCanonicalHexUuids(string value, bool expected) =>
        TapPassSession.IsWellFormedAgentUuid(value).Should().Be(expected);
}
