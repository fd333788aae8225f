using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using TapPass.Governance.Engine;
using TapPass.Governance.Identity;
using TapPass.Governance.Providers;
using TapPass.Protocol;
using TapPass.Transport;
using AIChatResponse = Microsoft.Extensions.AI.ChatResponse;

namespace TapPass.Governance;

/// <summary>
/// Governs any <see cref="IChatClient"/> in-process: each call runs the TapPass pipeline of the registered engine
/// (input steps, then the inner client as the model, then output steps and the audit event) as the engine's embedded
/// identity, with the same semantics as the gateway. The inner client receives the governed messages (masked where the
/// flags say so) and the caller's <see cref="ChatOptions"/> (without the <c>tappass.*</c> keys); a refusal throws the
/// exception the SDK throws for it (<see cref="PolicyBlockException"/>, <see cref="ApprovalRequiredException"/>,
/// <see cref="TrustTierDeniedException"/>, <see cref="BreakGlassActiveException"/>,
/// <see cref="ToolIntegrityViolationException"/>, …), and an input-side refusal means the inner client is never called.
/// </summary>
/// <remarks>
/// <para>Session, agent uuid, task id, flags and resume token are read from <see cref="ChatOptions.AdditionalProperties"/>
/// under <see cref="TapPassChatKeys"/>, else from <see cref="TapPassSession.Current"/>; the session the engine used is
/// reported back in the response's <c>AdditionalProperties</c> and recorded on <see cref="TapPassSession.Current"/>.
/// <see cref="ChatOptions.ConversationId"/> is never read or set (it is passed to the inner client as given).</para>
/// <para>Streaming: text is released as the engine's streaming masker releases it (a value split across updates is
/// masked as in a whole answer); a mid-stream output block throws without having yielded the offending text; the last
/// update carries tool calls, usage, finish reason and the TapPass metadata. Tool calls of the answer pass the engine's
/// tool rules; a call an approval rule holds is never a <see cref="FunctionCallContent"/> (so no function-invoking
/// client runs it): it is listed, with its pending approval, in the response's
/// <c>AdditionalProperties[TapPassChatKeys.ToolApprovals]</c>.</para>
/// <para>Register with <c>chatClient.WithTapPass(serviceProvider)</c> or <c>services.AddTapPassChatClient(...)</c>
/// after <c>AddTapPassEngine</c> or <c>AddTapPassEmbeddedGateway</c>.</para>
/// </remarks>
public sealed class TapPassChatClient : DelegatingChatClient
{
    private const int MaxModelLength = 128; // the engine's limit on a request's model name

    private readonly GovernanceEngine _engine;
    private readonly AgentIdentity _identity;
    private readonly GovernanceFlags _flags;
    private readonly bool _respectBreakGlass;
    private readonly bool _raiseOnRedaction;

    /// <summary>Governs <paramref name="innerClient"/> with the engine registered in <paramref name="services"/>.</summary>
    /// <param name="innerClient">The client that answers (the model).</param>
    /// <param name="services">Services holding the engine (<c>AddTapPassEngine</c> or <c>AddTapPassEmbeddedGateway</c>).</param>
    /// <param name="options">Default flags and exception options; null for the defaults.</param>
    /// <exception cref="InvalidOperationException">The engine is not registered.</exception>
    /// <exception cref="TapPassConfigException"><see cref="TapPassChatClientOptions.Flags"/> are invalid.</exception>
    public TapPassChatClient(IChatClient innerClient, IServiceProvider services, TapPassChatClientOptions? options = null)
        : this(innerClient, ResolveEngine(services), options)
    {
    }

    internal TapPassChatClient(IChatClient innerClient, GovernanceEngine engine, TapPassChatClientOptions? options)
        : base(innerClient)
    {
        _engine = engine ?? throw new ArgumentNullException(nameof(engine));
        _identity = engine.EmbeddedIdentity;
        _flags = options is { Flags.Count: > 0 } ? GovernanceFlags.From(options.Flags) : GovernanceFlags.Empty;
        _respectBreakGlass = options?.RespectBreakGlass ?? false;
        _raiseOnRedaction = options?.RaiseOnRedaction ?? false;
    }

    /// <inheritdoc />
    public override async Task<AIChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var prepared = Prepare(messages, options, stream: false);
        var provider = new ChatClientModelProvider(InnerClient, options);
        var reply = await _engine.ChatAsync(_identity, prepared.Call, prepared.Request, cancellationToken, provider).ConfigureAwait(false);
        if (!reply.IsSuccess)
        {
            throw Refusal(reply.StatusCode, reply.Error, reply.Headers, provider);
        }

        var response = TapPassAgent.MapResponse(reply.Value!, reply.Headers, prepared.Flags);
        AnswerDecisions.ObserveAmbient(response.SessionId, response.AgentUuid, response.AuditUrl, response.TaskId);
        RaiseIfConfigured(response);
        return ChatClientMapping.ToChatResponse(response);
    }

    /// <inheritdoc />
    /// <remarks>Arguments are checked now; the governed call starts when enumeration starts.</remarks>
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var prepared = Prepare(messages, options, stream: true);
        return StreamAsync(prepared, options, cancellationToken);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(PreparedCall prepared, ChatOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var provider = new ChatClientModelProvider(InnerClient, options);
        var reply = await _engine.StreamChatAsync(_identity, prepared.Call, prepared.Request, cancellationToken, provider).ConfigureAwait(false);
        await using (reply.ConfigureAwait(false))
        {
            if (reply.Error is not null || reply.Chunks is null)
            {
                throw Refusal(reply.StatusCode, reply.Error, reply.Headers, provider);
            }

            var accumulator = new TapPassAgent.StreamAccumulator();
            await foreach (var chunk in reply.Chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (chunk.Error is { } error)
                {
                    throw Refusal(TapPassAgent.DefaultStatus(error.Type), error, reply.Headers, provider);
                }

                var text = accumulator.Add(chunk);
                if (text.Length > 0)
                {
                    yield return new ChatResponseUpdate(ChatRole.Assistant, text) { ModelId = chunk.Model, ResponseId = chunk.Id };
                }
            }

            var response = accumulator.ToResponse(reply.Headers, prepared.Flags, prepared.Request.Model ?? "");
            AnswerDecisions.ObserveAmbient(response.SessionId, response.AgentUuid, response.AuditUrl, response.TaskId);
            RaiseIfConfigured(response);
            yield return ChatClientMapping.FinalUpdate(response);
        }
    }

    // ---- request ---------------------------------------------------------------------------------------------------

    private sealed record PreparedCall(ChatCompletionRequest Request, TapPassCall Call, GovernanceFlags Flags);

    /// <summary>Validates and converts the call; ids come from the options, else from the ambient session.</summary>
    private PreparedCall Prepare(IEnumerable<ChatMessage> messages, ChatOptions? options, bool stream)
    {
        var (request, overrides) = ChatClientMapping.Build(messages, options);
        var flags = overrides.Flags.Count > 0 ? _flags.Merge(overrides.Flags) : _flags;
        if (string.IsNullOrWhiteSpace(request.Model) && InnerClient.GetService<ChatClientMetadata>()?.DefaultModelId is { Length: <= MaxModelLength } model && TapPassAgent.IsValidModel(model))
        {
            request.Model = model; // the model the inner client will use, for the audit trail and the price table
        }

        if (stream)
        {
            request.Stream = true;
            request.StreamOptions = new StreamOptions { IncludeUsage = true };
        }

        var session = TapPassSession.Current;
        var call = new TapPassCall
        {
            Flags = flags.Count > 0 ? flags.ToHeaderValue() : null,
            SessionId = overrides.SessionId ?? session?.SessionId,
            AgentUuid = overrides.AgentUuid ?? session?.AgentUuid,
            TaskId = overrides.TaskId ?? session?.TaskId,
            ResumeToken = overrides.ResumeToken,
            SandboxTier = ProcessSandboxTier.Current,
        };
        return new PreparedCall(request, call, flags);
    }

    // ---- answers ---------------------------------------------------------------------------------------------------

    /// <summary>The exception for a refusal, after recording the ids it carries on the ambient session.</summary>
    private static TapPassException Refusal(int statusCode, ErrorBody? error, TapPassReplyHeaders headers, ChatClientModelProvider provider)
    {
        error ??= new ErrorBody { Type = ErrorTypes.HttpError, Message = $"The TapPass engine answered {statusCode} without an error." };
        AnswerDecisions.ObserveAmbient(error.SessionId ?? headers.SessionId, error.AgentUuid ?? headers.AgentUuid, error.AuditUrl, error.TaskId);
        if (error.Type == ErrorTypes.UpstreamError && provider.Failure is { } inner)
        {
            // The inner client failed: keep its exception as the cause.
            return new TapPassUpstreamException(error.Message, inner) { Provider = error.Provider, ErrorType = error.Type, StatusCode = statusCode };
        }

        return TapPassException.FromError(statusCode, error, headers.RetryAfter);
    }

    private void RaiseIfConfigured(ChatResponse response)
    {
        if (AnswerDecisions.Raised(response, _respectBreakGlass, _raiseOnRedaction, "engine") is { } decision)
        {
            throw decision;
        }
    }

    private static GovernanceEngine ResolveEngine(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetService(typeof(GovernanceEngine)) as GovernanceEngine ?? throw new InvalidOperationException(
            "TapPassChatClient needs the TapPass governance engine, which is not registered. Call services.AddTapPassEmbeddedGateway(...) " +
            "(or services.AddTapPassEngine(...)) before creating the client.");
    }
}
