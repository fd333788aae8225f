using TapPass.Protocol;

namespace TapPass.AspNetCore.Tests.Fakes;

/// <summary>
/// A hand-written agent: runs <see cref="Behaviour"/> for each call. By default it answers like a gateway that opens
/// a session implicitly: it records <see cref="GatewaySessionId"/> on the ambient session when that has no id.
/// </summary>
internal sealed class FakeAgent : ITapPassAgent
{
    public const string GatewaySessionId = "ses_gateway_1";
    public const string GatewayAgentUuid = "9b2f4c1e-1111-4000-8000-00000000abcd";

    private readonly List<ChatCompletionMessage> _history = [];

    public Func<string, TapPassChatOptions?, CancellationToken, Task<ChatResponse>> Behaviour { get; set; } = static (message, _, _) =>
    {
        TapPassSession.Current?.Observe(GatewaySessionId, GatewayAgentUuid, "http://gateway.test/audit/sessions/" + GatewaySessionId);
        var session = TapPassSession.Current;
        return Task.FromResult(new ChatResponse
        {
            Content = "echo: " + message,
            SessionId = session?.SessionId,
            AgentUuid = session?.AgentUuid,
            AuditUrl = session?.AuditUrl,
        });
    };

    public string Model => "fake-model";

    public IReadOnlyList<ChatCompletionMessage> History => _history;

    public bool Disposed { get; private set; }

    public Task<ChatResponse> ChatAsync(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Behaviour(message, options, cancellationToken);

    public ChatResponse Chat(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The tests use ChatAsync.");

    public ChatStream StreamAsync(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The tests use ChatAsync.");

    public ChatStreamSync Stream(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The tests use ChatAsync.");

    public void Reset() => _history.Clear();

    public void Dispose() => Disposed = true;

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}
