using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using TapPass.Governance.Audit;
using TapPass.Governance.Identity;
using TapPass.Governance.Inspection;
using TapPass.Governance.Pipeline;
using TapPass.Governance.Pipeline.Steps;
using TapPass.Governance.Providers;
using TapPass.Governance.State;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Engine;

/// <summary>A refused call: status, correlated error and headers.</summary>
internal sealed record Failure(int StatusCode, ErrorBody Error, TapPassReplyHeaders Headers)
{
    public TapPassReply<T> ToReply<T>()
        where T : class => TapPassReply<T>.Fail(StatusCode, Error, Headers);

    public TapPassStreamReply ToStream() => TapPassStreamReply.Fail(StatusCode, Error, Headers);
}

internal sealed partial class GovernanceEngine
{
    private const int MaxRoleLength = 32;
    private const int MaxToolCallsPerAnswer = 64;
    private const int MaxToolArgumentCharacters = 1_000_000;

    /// <inheritdoc />
    public async Task<TapPassReply<ChatCompletionResponse>> ChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        if (!Authenticate(call, out var identity, out var error))
        {
            return TapPassReply<ChatCompletionResponse>.Fail(StatusOf(error!), Correlate(error!, null, null, null, Ids.New(Ids.Pipeline)));
        }

        return await ChatAsync(identity, call, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A governed chat for an already authenticated <paramref name="identity"/>. <paramref name="provider"/> answers
    /// instead of the provider the router picks for the model (the <c>TapPassChatClient</c> governs its inner
    /// <c>IChatClient</c> this way); everything else runs exactly as for a routed model.
    /// </summary>
    internal async Task<TapPassReply<ChatCompletionResponse>> ChatAsync(AgentIdentity identity, TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken, IModelProvider? provider = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(request);
        var pipelineId = Ids.New(Ids.Pipeline);
        try
        {
            var (early, breakGlass) = await PreludeAsync(identity, call, pipelineId, "chat.rejected").ConfigureAwait(false);
            if (early is not null)
            {
                return early.ToReply<ChatCompletionResponse>();
            }

            return await IdempotentAsync(
                identity, call, "chat", () => Serialize(request, TapPassJsonContext.Default.ChatCompletionRequest), pipelineId,
                () => ChatCoreAsync(identity, call, request, pipelineId, breakGlass, provider, cancellationToken),
                reply => new IdempotentOutcome { StatusCode = reply.StatusCode, Headers = reply.Headers, Error = reply.Error, Chat = reply.Value },
                outcome => outcome.Chat is { } chat ? TapPassReply<ChatCompletionResponse>.Ok(chat, outcome.Headers, outcome.StatusCode) : TapPassReply<ChatCompletionResponse>.Fail(outcome.StatusCode, outcome.Error!, outcome.Headers)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuditUnavailableException or StoreFullException)
        {
            return TapPassReply<ChatCompletionResponse>.Fail(503, Correlate(Unavailable(ex is StoreFullException ? "Gateway state is full; try again later." : "The audit log is unavailable; the call was not completed."), identity, null, call.TaskId, pipelineId));
        }
    }

    /// <summary>
    /// Header checks, Idempotency-Key format and break-glass halt; a failure is audited. Returns the org's active
    /// break-glass state (observe) for the rest of the call.
    /// </summary>
    private async Task<(Failure? Failure, BreakGlassState? BreakGlass)> PreludeAsync(AgentIdentity identity, TapPassCall call, string pipelineId, string rejectedEvent)
    {
        if ((CheckCallHeaders(identity, call) ?? CheckIdempotencyKey(call.IdempotencyKey)) is { } invalid)
        {
            return (await RejectAsync(identity, call, pipelineId, rejectedEvent, invalid, null).ConfigureAwait(false), null);
        }

        var breakGlass = await ActiveBreakGlassAsync(identity.Org).ConfigureAwait(false);
        if (breakGlass is { Level: "halt" } halt)
        {
            var retry = halt.ExpiresAt - _time.GetUtcNow();
            retry = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(retry.TotalSeconds)));
            var error = new ErrorBody
            {
                Type = ErrorTypes.BreakGlassActive,
                Message = "Break-glass halt is active: agent calls are refused until it ends.",
                Level = halt.Level,
                ExpiresAt = halt.ExpiresAt,
                Reason = halt.Reason,
            };
            return (await RejectAsync(identity, call, pipelineId, rejectedEvent, error, null, retry).ConfigureAwait(false), halt);
        }

        return (null, breakGlass);
    }

    /// <summary>Audits and returns a refusal that happened before a pipeline run existed.</summary>
    private async Task<Failure> RejectAsync(AgentIdentity identity, TapPassCall call, string pipelineId, string eventType, ErrorBody error, string? sessionId, TimeSpan? retryAfter = null, int? status = null)
    {
        Correlate(error, identity, sessionId, call.TaskId, pipelineId);
        EngineLog.Refused(_logger, error.Type, error.BlockedBy, pipelineId, identity.AgentId);
        await AppendAsync(Event(eventType, identity, sessionId, call.TaskId, pipelineId) with
        {
            Decision = error.Type == ErrorTypes.BreakGlassActive ? "block" : "error",
            BlockedBy = error.BlockedBy ?? (error.Type == ErrorTypes.BreakGlassActive ? "break_glass" : null),
            Reason = error.Reason ?? error.Message,
            Details = new JsonBag().Add("error_type", error.Type).Add("param", error.Param).Add("flag", error.Flag).Build(),
        }).ConfigureAwait(false);
        return new Failure(status ?? StatusOf(error), error, Headers(identity, sessionId, null, pipelineId, retryAfter));
    }

    private async Task<TapPassReply<ChatCompletionResponse>> ChatCoreAsync(AgentIdentity identity, TapPassCall call, ChatCompletionRequest request, string pipelineId, BreakGlassState? breakGlass, IModelProvider? provider, CancellationToken cancellationToken)
    {
        var (run, failure) = await PrepareChatAsync(identity, call, request, pipelineId, breakGlass, stream: false, provider, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure.ToReply<ChatCompletionResponse>();
        }

        var start = Stopwatch.GetTimestamp();
        try
        {
            run!.ModelResult = ValidateResult(await run.Provider.CompleteAsync(ProviderRequestFor(run), cancellationToken).ConfigureAwait(false), run);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            PipelineExecutor.Record(run!, PipelineStepNames.CallModel, "error", start);
            await SettleUnusedAsync(run!).ConfigureAwait(false);
            await AppendAsync(ChatEvent(run!, "chat.cancelled", "error", null)).ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (ex is not AuditUnavailableException and not StoreFullException)
        {
            PipelineExecutor.Record(run!, PipelineStepNames.CallModel, "error", start);
            return (await UpstreamFailureAsync(run!, ex).ConfigureAwait(false)).ToReply<ChatCompletionResponse>();
        }

        PipelineExecutor.Record(run, PipelineStepNames.CallModel, "pass", start);
        await PipelineExecutor.RunAsync(_outputSteps, run, OnStepFailed(run), cancellationToken).ConfigureAwait(false);
        await PipelineExecutor.RunAsync([_costStep], run, OnStepFailed(run), CancellationToken.None, evenIfRefused: true).ConfigureAwait(false);
        if (run.Refusal is { } refusal)
        {
            return (await RefuseRunAsync(run, refusal).ConfigureAwait(false)).ToReply<ChatCompletionResponse>();
        }

        var response = BuildResponse(run);
        await AppendAsync(ChatEvent(run, "chat.completed", CompletedDecision(run), null)).ConfigureAwait(false);
        return TapPassReply<ChatCompletionResponse>.Ok(response, Headers(identity, run.Session.Id, run.Classification, pipelineId));
    }

    /// <summary>Validation, flags, session, turn and the input steps. Returns the run ready for the model (the
    /// router's provider for the model unless <paramref name="provider"/> is given), or a failure.</summary>
    private async Task<(ChatRun? Run, Failure? Failure)> PrepareChatAsync(AgentIdentity identity, TapPassCall call, ChatCompletionRequest request, string pipelineId, BreakGlassState? breakGlass, bool stream, IModelProvider? provider, CancellationToken cancellationToken)
    {
        if (ValidateChat(request) is { } invalid)
        {
            return (null, await RejectAsync(identity, call, pipelineId, "chat.rejected", invalid.Error, null, status: invalid.Status).ConfigureAwait(false));
        }

        if (!_settings.Flags.TryResolve(call.Flags, identity, out var resolution, out var flagError))
        {
            return (null, await RejectAsync(identity, call, pipelineId, "chat.rejected", InvalidFlags(flagError!), null).ConfigureAwait(false));
        }

        var (session, sessionFailure) = await JoinOrOpenSessionAsync(identity, call, call.SessionId, pipelineId, "chat.rejected", cancellationToken).ConfigureAwait(false);
        if (sessionFailure is not null)
        {
            return (null, sessionFailure);
        }

        var now = _time.GetUtcNow();
        var turn = await _stores.Sessions.NextTurnAsync(session!.Id, now, now + _settings.SessionLifetime, cancellationToken).ConfigureAwait(false);
        if (turn is null)
        {
            var error = new ErrorBody { Type = ErrorTypes.SessionForbidden, Message = "The session does not exist, has ended, or belongs to another agent." };
            return (null, await RejectAsync(identity, call, pipelineId, "chat.rejected", error, null).ConfigureAwait(false));
        }

        await AuditLocksAsync(identity, resolution, session.Id, call.TaskId, pipelineId).ConfigureAwait(false);

        var model = string.IsNullOrWhiteSpace(request.Model) ? _settings.DefaultModel : request.Model;
        var run = new ChatRun
        {
            Identity = identity,
            Call = call,
            Request = request,
            Resolution = resolution,
            Session = session,
            TurnIndex = turn.Value,
            PipelineId = pipelineId,
            Model = model,
            Provider = provider ?? _router.Resolve(model),
            StartedAt = now,
            TaskId = call.TaskId,
            Stream = stream,
            BreakGlassObserve = breakGlass is { Level: "observe" } bg ? new BreakGlassInfo { Level = bg.Level, ExpiresAt = bg.ExpiresAt, Reason = bg.Reason } : null,
        };

        try
        {
            await PipelineExecutor.RunAsync(_inputSteps, run, OnStepFailed(run), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await SettleUnusedAsync(run).ConfigureAwait(false);
            await AppendAsync(ChatEvent(run, "chat.cancelled", "error", null)).ConfigureAwait(false);
            throw;
        }

        if (run.Refusal is { } refusal)
        {
            await SettleUnusedAsync(run).ConfigureAwait(false);
            return (null, await RefuseRunAsync(run, refusal).ConfigureAwait(false));
        }

        run.ProviderMessages = BuildProviderMessages(run);
        return (run, null);
    }

    private (int Status, ErrorBody Error)? ValidateChat(ChatCompletionRequest request)
    {
        static (int, ErrorBody) Bad(string message, string param, int status = 400) =>
            (status, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = message, Param = param });

        if (request.Messages is null || request.Messages.Count == 0)
        {
            return Bad("messages must contain at least one message.", "messages");
        }

        if (request.Messages.Count > _settings.MaxMessages)
        {
            return Bad($"messages may contain at most {_settings.MaxMessages} messages.", "messages", 413);
        }

        long characters = 0;
        foreach (var m in request.Messages)
        {
            if (m is null || string.IsNullOrEmpty(m.Role) || m.Role.Length > MaxRoleLength || m.Role is not ("system" or "developer" or "user" or "assistant" or "tool" or "function"))
            {
                return Bad("Each message needs a role: system, developer, user, assistant or tool.", "messages");
            }

            characters += (m.Content?.Length ?? 0) + (m.Name?.Length ?? 0);
            foreach (var tc in m.ToolCalls ?? [])
            {
                characters += (tc?.Function?.Arguments?.Length ?? 0) + (tc?.Function?.Name?.Length ?? 0);
            }
        }

        if (characters > _settings.MaxInputCharacters)
        {
            return Bad($"The messages exceed {_settings.MaxInputCharacters} characters.", "messages", 413);
        }

        if (request.Model is { Length: > 128 })
        {
            return Bad("model must be at most 128 characters.", "model");
        }

        if (request.Tools is { } tools)
        {
            if (tools.Count > _settings.MaxTools)
            {
                return Bad($"tools may contain at most {_settings.MaxTools} tools.", "tools");
            }

            if (tools.Any(t => t?.Function is null || !IsToolName(t.Function.Name)))
            {
                return Bad("Each tool needs a function name of 1-128 characters of [A-Za-z0-9_.:/-].", "tools");
            }
        }

        if (request.MaxTokens is < 0 || request.MaxCompletionTokens is < 0)
        {
            return Bad("max_tokens must not be negative.", "max_tokens");
        }

        return null;
    }

    internal static bool IsToolName(string? name) =>
        name is { Length: > 0 and <= 128 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':' or '/');

    private Action<string, Exception> OnStepFailed(ChatRun run) =>
        (step, ex) => EngineLog.StepFailed(_logger, step, ex.GetType().Name, run.PipelineId, _inputSteps.Concat(_outputSteps).FirstOrDefault(s => s.Name == step)?.Critical ?? true);

    /// <summary>The messages the model sees: masked where the input steps decided so. The caller's request is not mutated.</summary>
    private List<ChatCompletionMessage> BuildProviderMessages(ChatRun run)
    {
        var messages = new List<ChatCompletionMessage>(run.Request.Messages);
        foreach (var text in run.Texts)
        {
            if (text.ToMask.Count == 0)
            {
                continue;
            }

            var masked = _inspector.Mask(text.Text, [.. text.ToMask.OrderBy(f => f.Start)], "input");
            run.Redactions.AddRange(masked.Redactions);
            var original = messages[text.MessageIndex];
            messages[text.MessageIndex] = new ChatCompletionMessage
            {
                Role = original.Role,
                Content = masked.Text,
                Name = original.Name,
                ToolCalls = original.ToolCalls,
                ToolCallId = original.ToolCallId,
            };
        }

        return messages;
    }

    private static ProviderRequest ProviderRequestFor(ChatRun run)
    {
        var r = run.Request;
        Dictionary<string, JsonElement>? extra = r.AdditionalProperties is null ? null : new(r.AdditionalProperties, StringComparer.Ordinal);
        if (r.User is not null || r.Metadata is not null)
        {
            extra ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            var bag = new JsonBag().Add("user", r.User);
            if (r.Metadata is not null)
            {
                var meta = new JsonBag();
                foreach (var (k, v) in r.Metadata)
                {
                    meta.Add(k, v);
                }

                bag.Add("metadata", JsonSerializer.SerializeToElement(meta.Build(), EngineJsonContext.Default.DictionaryStringJsonElement));
            }

            foreach (var (k, v) in bag.Build())
            {
                extra[k] = v;
            }
        }

        return new ProviderRequest
        {
            Model = run.Model,
            Messages = run.ProviderMessages ?? r.Messages,
            Temperature = r.Temperature,
            MaxTokens = r.MaxCompletionTokens ?? r.MaxTokens,
            Tools = r.Tools,
            ToolChoice = r.ToolChoice,
            ResponseFormat = r.ResponseFormat,
            AdditionalProperties = extra,
        };
    }

    private static ProviderResult ValidateResult(ProviderResult result, ChatRun run)
    {
        if (result is null || result.ToolCalls.Count > MaxToolCallsPerAnswer ||
            result.ToolCalls.Any(t => t?.Function is null || !IsToolName(t.Function.Name) || (t.Function.Arguments?.Length ?? 0) > MaxToolArgumentCharacters))
        {
            throw new ProviderException(run.Provider.Name, "The provider returned an invalid answer.", false);
        }

        return result with
        {
            Content = result.Content ?? "",
            PromptTokens = Math.Max(0, result.PromptTokens),
            CompletionTokens = Math.Max(0, result.CompletionTokens),
        };
    }

    private async Task<Failure> UpstreamFailureAsync(ChatRun run, Exception ex)
    {
        var providerException = ex as ProviderException;
        var provider = providerException?.Provider is { } p && p != "unknown" ? p : run.Provider.Name;
        var timeout = providerException?.IsTimeout == true || ex is TimeoutException or OperationCanceledException;
        EngineLog.ProviderFailed(_logger, provider, timeout, ex.GetType().Name, run.PipelineId);
        await SettleUnusedAsync(run).ConfigureAwait(false);
        var error = Correlate(new ErrorBody
        {
            Type = ErrorTypes.UpstreamError,
            Message = timeout ? $"The model provider '{provider}' timed out." : $"The model provider '{provider}' failed.",
            Provider = provider,
            Classification = run.Classification.ToWire(),
        }, run.Identity, run.Session.Id, run.TaskId, run.PipelineId);
        await AppendAsync(ChatEvent(run, "chat.failed", "error", error)).ConfigureAwait(false);
        return new Failure(timeout ? 504 : 502, error, Headers(run.Identity, run.Session.Id, run.Classification, run.PipelineId));
    }

    /// <summary>Audits a refusal of a run and returns it correlated.</summary>
    private async Task<Failure> RefuseRunAsync(ChatRun run, Refusal refusal)
    {
        var error = Correlate(refusal.Error, run.Identity, run.Session.Id, run.TaskId, run.PipelineId);
        error.Classification ??= run.Classification.ToWire();
        EngineLog.Refused(_logger, error.Type, error.BlockedBy, run.PipelineId, run.Identity.AgentId);
        var decision = error.Type == ErrorTypes.ApprovalRequired ? "needs_approval" : "block";
        await AppendAsync(ChatEvent(run, decision == "needs_approval" ? "approval.requested" : "chat.blocked", decision, error)).ConfigureAwait(false);
        return new Failure(refusal.StatusCode, error, Headers(run.Identity, run.Session.Id, run.Classification, run.PipelineId, refusal.RetryAfter));
    }

    /// <summary>Releases a budget reservation the call did not use (refused before or failed during the model call).</summary>
    private async Task SettleUnusedAsync(ChatRun run, decimal actualUsd = 0)
    {
        if (run.Budget is { } reservation)
        {
            run.Budget = null;
            await _stores.Budgets.SettleAsync(reservation, actualUsd, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static string CompletedDecision(ChatRun run) =>
        run.Redactions.Count > 0 ? "mask" :
        run.WouldBlock.Count > 0 || run.Detections.Any(d => d.Action == "flag") ? "flag" : "allow";

    private AuditEvent ChatEvent(ChatRun run, string type, string decision, ErrorBody? error)
    {
        var details = new JsonBag()
            .Add("turn_index", (long)run.TurnIndex)
            .Add("injection_score", run.InjectionScore)
            .Add("degraded", run.Degraded)
            .Add("stream", run.Stream)
            .Add("provider", run.Provider.Name)
            .Add("redactions", (long)run.Redactions.Count)
            .Add("error_type", error?.Type)
            .Add("approval_id", run.ApprovalId ?? error?.ApprovalId)
            .Add("finish_reason", run.ModelResult?.FinishReason)
            .Add("tool_calls", (long)(run.ModelResult?.ToolCalls.Count ?? 0));
        if (run.WouldBlock.Count > 0)
        {
            details.Add("would_block", run.WouldBlock);
        }

        if (run.ToolApprovals.Count > 0)
        {
            // Tool calls of the answer held for approval: withheld from the answer, no capability token.
            details.Add("tool_approvals", run.ToolApprovals.Select(a => a.ApprovalId ?? ""));
            details.Add("tool_approval_tools", run.ToolApprovals.Select(a => a.Subject ?? ""));
        }

        if (run.InjectionSignals.Count > 0)
        {
            details.Add("injection_signals", run.InjectionSignals);
        }

        if (run.BreakGlassObserve is { } bg)
        {
            details.Add("break_glass", bg.Level);
        }

        string? content = null;
        if (_settings.CaptureContent)
        {
            var capture = new JsonBag()
                // Only what the model was sent (after masking); a call refused before that captures no prompt.
                .Add("prompt", run.ProviderMessages?.LastOrDefault(m => m.Role == "user")?.Content)
                .Add("answer", run.OutputContent)
                .Build();
            content = JsonSerializer.Serialize(capture, EngineJsonContext.Default.DictionaryStringJsonElement);
        }

        return Event(type, run.Identity, run.Session.Id, run.TaskId, run.PipelineId) with
        {
            Decision = decision,
            BlockedBy = error?.BlockedBy,
            Reason = error?.Reason ?? error?.Message,
            Classification = run.Classification.ToWire(),
            Model = run.Model,
            Flags = run.Flags.ToDictionary(),
            Detections = [.. run.Detections],
            Steps = [.. run.Steps],
            Cost = run.Cost,
            Details = details.Build(),
            Content = content,
        };
    }

    private TapPassMetadata Metadata(ChatRun run) => new()
    {
        Classification = run.Classification.ToWire(),
        Blocked = false,
        Flags = run.Flags.ToDictionary(),
        SessionId = run.Session.Id,
        TaskId = run.TaskId,
        AgentUuid = run.Identity.AgentUuid,
        PipelineUuid = run.PipelineId,
        TurnIndex = run.TurnIndex,
        AuditUrl = AuditUrl(run.Session.Id),
        Detections = [.. run.Detections],
        Redactions = [.. run.Redactions],
        Steps = [.. run.Steps],
        Cost = run.Cost,
        InjectionScore = run.InjectionScore,
        Degraded = run.Degraded,
        BreakGlass = run.BreakGlassObserve,
        CapabilityTokens = run.CapabilityTokens.Count > 0 ? new Dictionary<string, string>(run.CapabilityTokens, StringComparer.Ordinal) : null,
        ToolApprovals = run.ToolApprovals.Count > 0 ? [.. run.ToolApprovals] : null,
    };

    private ChatCompletionResponse BuildResponse(ChatRun run)
    {
        var result = run.ModelResult!;
        var toolCalls = run.OutputToolCalls;
        var content = run.OutputContent ?? "";
        return new ChatCompletionResponse
        {
            Id = Ids.New(Ids.Completion),
            Created = run.StartedAt.ToUnixTimeSeconds(),
            Model = run.Model,
            Choices =
            [
                new ChatChoice
                {
                    Index = 0,
                    Message = new ChatCompletionMessage
                    {
                        Role = "assistant",
                        Content = toolCalls.Count > 0 && content.Length == 0 ? null : content,
                        ToolCalls = toolCalls.Count > 0 ? [.. toolCalls] : null,
                    },
                    FinishReason = run.OutputFinishReason,
                },
            ],
            Usage = new UsageInfo { PromptTokens = result.PromptTokens, CompletionTokens = result.CompletionTokens, TotalTokens = result.PromptTokens + result.CompletionTokens },
            Tappass = Metadata(run),
        };
    }

    // ---- streaming -----------------------------------------------------------------------------------------------

    /// <inheritdoc />
    public async Task<TapPassStreamReply> StreamChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        if (!Authenticate(call, out var identity, out var error))
        {
            return TapPassStreamReply.Fail(StatusOf(error!), Correlate(error!, null, null, null, Ids.New(Ids.Pipeline)));
        }

        return await StreamChatAsync(identity, call, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A governed streaming chat for <paramref name="identity"/>. Every input-side decision is taken before this
    /// returns (an error reply, never a stream). The answer is masked incrementally as it streams; a mid-stream
    /// output block ends the stream with one error chunk, and nothing unmasked is ever emitted. The last chunk has
    /// empty <c>choices</c>, <c>usage</c> and <c>tappass</c>. With an Idempotency-Key, a replay of a completed stream
    /// is re-sent from the stored answer; a stream that ended with an error replays as that error before any stream.
    /// </summary>
    /// <remarks><paramref name="provider"/> answers instead of the router's provider for the model.</remarks>
    internal async Task<TapPassStreamReply> StreamChatAsync(AgentIdentity identity, TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken, IModelProvider? provider = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(request);
        var pipelineId = Ids.New(Ids.Pipeline);
        string? scope = null;
        var handedOver = false;
        try
        {
            var (early, breakGlass) = await PreludeAsync(identity, call, pipelineId, "chat.rejected").ConfigureAwait(false);
            if (early is not null)
            {
                return early.ToStream();
            }

            if (call.IdempotencyKey is { } key)
            {
                scope = IdempotencyScope(identity, key);
                var begin = await _stores.Idempotency.BeginAsync(scope, RequestHash("chat", call, Serialize(request, TapPassJsonContext.Default.ChatCompletionRequest)), CancellationToken.None).ConfigureAwait(false);
                if (begin.State != IdempotencyState.Started)
                {
                    scope = null;
                    return await ReplayStreamAsync(identity, call, pipelineId, begin).ConfigureAwait(false);
                }
            }

            var (run, failure) = await PrepareChatAsync(identity, call, request, pipelineId, breakGlass, stream: true, provider, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                await CompleteIdempotencyAsync(scope, failure.StatusCode, failure.Headers, failure.Error, null).ConfigureAwait(false);
                scope = null;
                return failure.ToStream();
            }

            var start = Stopwatch.GetTimestamp();
            IAsyncEnumerator<ProviderStreamUpdate>? updates = null;
            (bool Has, ProviderStreamUpdate? Update, Exception? Error) first;
            try
            {
                updates = run!.Provider.StreamAsync(ProviderRequestFor(run), cancellationToken).GetAsyncEnumerator(cancellationToken);
                first = await NextAsync(updates).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                first = (false, null, ex);
            }

            if (first.Error is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                await SettleUnusedAsync(run!).ConfigureAwait(false);
                await AppendAsync(ChatEvent(run!, "chat.cancelled", "error", null)).ConfigureAwait(false);
                if (updates is not null)
                {
                    await updates.DisposeAsync().ConfigureAwait(false);
                }

                throw first.Error;
            }

            if (first.Error is { } upstream)
            {
                PipelineExecutor.Record(run!, PipelineStepNames.CallModel, "error", start);
                if (updates is not null)
                {
                    await updates.DisposeAsync().ConfigureAwait(false);
                }

                var upstreamFailure = await UpstreamFailureAsync(run!, upstream).ConfigureAwait(false);
                return upstreamFailure.ToStream();
            }

            var headers = Headers(identity, run!.Session.Id, run.Classification, pipelineId);
            var state = new StreamState(run, updates!, first.Has ? first.Update : null, first.Has, start, scope);
            state.OnAbandon = () => AbandonStreamAsync(state);
            handedOver = true;
            return new TapPassStreamReply(200, headers, StreamChunksAsync(state, CancellationToken.None), null, () => state.DisposeAsync());
        }
        catch (Exception ex) when (ex is AuditUnavailableException or StoreFullException)
        {
            return TapPassStreamReply.Fail(503, Correlate(Unavailable(), identity, null, call.TaskId, pipelineId));
        }
        finally
        {
            if (scope is not null && !handedOver)
            {
                await _stores.Idempotency.AbandonAsync(scope, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task<TapPassStreamReply> ReplayStreamAsync(AgentIdentity identity, TapPassCall call, string pipelineId, IdempotencyBegin begin)
    {
        switch (begin.State)
        {
            case IdempotencyState.Conflict:
                return TapPassStreamReply.Fail(422, Correlate(new ErrorBody { Type = ErrorTypes.IdempotencyConflict, Message = "This Idempotency-Key was used with a different request." }, identity, null, call.TaskId, pipelineId));
            case IdempotencyState.InProgress:
                return TapPassStreamReply.Fail(409, Correlate(new ErrorBody { Type = ErrorTypes.IdempotencyConflict, Message = "A request with this Idempotency-Key is still being processed." }, identity, null, call.TaskId, pipelineId));
        }

        var outcome = begin.Outcome!;
        await AppendAsync(Event("idempotency.replayed", identity, outcome.Headers.SessionId, call.TaskId, pipelineId) with
        {
            Decision = "replay",
            Details = new JsonBag().Add("operation", "chat").Add("status", (long)outcome.StatusCode).Add("stream", true).Build(),
        }).ConfigureAwait(false);
        if (outcome.Chat is not { } chat)
        {
            return TapPassStreamReply.Fail(outcome.StatusCode, outcome.Error!, outcome.Headers);
        }

        return new TapPassStreamReply(200, outcome.Headers, ReplayChunks(chat), null);
    }

    private static async IAsyncEnumerable<ChatCompletionChunk> ReplayChunks(ChatCompletionResponse chat)
    {
        await Task.Yield();
        var message = chat.Choices.FirstOrDefault()?.Message;
        ChatCompletionChunk Chunk(ChatDelta delta, string? finish = null) => new()
        {
            Id = chat.Id,
            Object = "chat.completion.chunk",
            Created = chat.Created,
            Model = chat.Model,
            Choices = [new ChunkChoice { Index = 0, Delta = delta, FinishReason = finish }],
        };

        yield return Chunk(new ChatDelta { Role = "assistant", Content = "" });
        if (!string.IsNullOrEmpty(message?.Content))
        {
            yield return Chunk(new ChatDelta { Content = message.Content });
        }

        for (var i = 0; i < (message?.ToolCalls?.Count ?? 0); i++)
        {
            var tc = message!.ToolCalls![i];
            yield return Chunk(new ChatDelta { ToolCalls = [new ToolCallDelta { Index = i, Id = tc.Id, Type = tc.Type, Function = new FunctionCallDelta { Name = tc.Function.Name, Arguments = tc.Function.Arguments } }] });
        }

        yield return Chunk(new ChatDelta(), chat.Choices.FirstOrDefault()?.FinishReason ?? "stop");
        yield return new ChatCompletionChunk { Id = chat.Id, Object = "chat.completion.chunk", Created = chat.Created, Model = chat.Model, Choices = [], Usage = chat.Usage, Tappass = chat.Tappass };
    }

    private async Task CompleteIdempotencyAsync(string? scope, int status, TapPassReplyHeaders headers, ErrorBody? error, ChatCompletionResponse? chat)
    {
        if (scope is null)
        {
            return;
        }

        if (status < 500)
        {
            await _stores.Idempotency.CompleteAsync(scope, new IdempotentOutcome { StatusCode = status, Headers = headers, Error = error, Chat = chat }, CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await _stores.Idempotency.AbandonAsync(scope, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<(bool Has, ProviderStreamUpdate? Update, Exception? Error)> NextAsync(IAsyncEnumerator<ProviderStreamUpdate> updates)
    {
        try
        {
            return await updates.MoveNextAsync().ConfigureAwait(false) ? (true, updates.Current, null) : (false, null, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return (false, null, ex);
        }
    }

    /// <summary>The state of one stream; disposing it before the end releases the provider stream and audits the
    /// cancellation.</summary>
    private sealed class StreamState(ChatRun run, IAsyncEnumerator<ProviderStreamUpdate> updates, ProviderStreamUpdate? first, bool hasFirst, long startTimestamp, string? idempotencyScope)
    {
        public ChatRun Run { get; } = run;
        public IAsyncEnumerator<ProviderStreamUpdate> Updates { get; } = updates;
        public ProviderStreamUpdate? First { get; } = first;
        public bool HasFirst { get; } = hasFirst;
        public long StartTimestamp { get; } = startTimestamp;
        public string? IdempotencyScope { get; set; } = idempotencyScope;
        public bool Finished { get; set; }
        public Func<ValueTask>? OnAbandon { get; set; }
        private int _disposed;
        private int _enumerated;

        /// <summary>True the first time only: a stream can be enumerated once.</summary>
        public bool TryStartEnumeration() => Interlocked.Exchange(ref _enumerated, 1) == 0;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            if (!Finished && OnAbandon is { } abandon)
            {
                await abandon().ConfigureAwait(false);
            }

            await Updates.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<ChatCompletionChunk> StreamChunksAsync(StreamState state, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!state.TryStartEnumeration())
        {
            throw new InvalidOperationException("A chat stream can be enumerated only once.");
        }

        var run = state.Run;
        var id = Ids.New(Ids.Completion);
        var created = run.StartedAt.ToUnixTimeSeconds();
        var masker = _inspector.CreateStreamMasker(ScanOutputStep.StreamPolicy(run));
        var emitted = new StringBuilder();
        var tools = new SortedDictionary<int, (string? Id, string? Name, StringBuilder Args)>();
        string? finish = null;
        int? promptTokens = null, completionTokens = null;
        var rawCharacters = 0;
        long scanTicks = 0;
        ErrorBody? terminal = null;
        var terminalStatus = 403;

        ChatCompletionChunk Chunk(ChatDelta delta, string? finishReason = null) => new()
        {
            Id = id,
            Object = "chat.completion.chunk",
            Created = created,
            Model = run.Model,
            Choices = [new ChunkChoice { Index = 0, Delta = delta, FinishReason = finishReason }],
        };

        try
        {
            yield return Chunk(new ChatDelta { Role = "assistant", Content = "" });

            var has = state.HasFirst;
            var update = state.First;
            while (has && update is not null)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!string.IsNullOrEmpty(update.ContentDelta))
                {
                    rawCharacters += update.ContentDelta.Length;
                    var t0 = Stopwatch.GetTimestamp();
                    StreamMaskResult masked;
                    try
                    {
                        masked = masker.Push(update.ContentDelta);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        EngineLog.StepFailed(_logger, PipelineStepNames.ScanOutput, ex.GetType().Name, run.PipelineId, true);
                        masked = new StreamMaskResult("");
                        terminal = FailClosedError(run);
                    }

                    scanTicks += Stopwatch.GetTimestamp() - t0;
                    if (masked.SafeText.Length > 0)
                    {
                        emitted.Append(masked.SafeText);
                        yield return Chunk(new ChatDelta { Content = masked.SafeText });
                    }

                    if (masked.Blocked is { } blocked)
                    {
                        terminal = ScanOutputStep.BlockRefusal(run, [blocked.Finding.Type]).Error;
                    }

                    if (terminal is not null)
                    {
                        break;
                    }
                }

                foreach (var delta in update.ToolCalls ?? [])
                {
                    if (!tools.TryGetValue(delta.Index, out var builder))
                    {
                        if (tools.Count >= MaxToolCallsPerAnswer)
                        {
                            continue;
                        }

                        builder = (null, null, new StringBuilder());
                    }

                    builder.Id ??= delta.Id;
                    builder.Name ??= delta.Function?.Name;
                    if (delta.Function?.Arguments is { } args && builder.Args.Length + args.Length <= MaxToolArgumentCharacters)
                    {
                        builder.Args.Append(args);
                    }

                    tools[delta.Index] = builder;
                }

                finish = update.FinishReason ?? finish;
                promptTokens = update.PromptTokens ?? promptTokens;
                completionTokens = update.CompletionTokens ?? completionTokens;

                (has, update, var error) = await NextAsync(state.Updates).ConfigureAwait(false);
                if (error is OperationCanceledException oce && cancellationToken.IsCancellationRequested)
                {
                    throw oce;
                }

                if (error is not null)
                {
                    var provider = (error as ProviderException)?.Provider is { } p && p != "unknown" ? p : run.Provider.Name;
                    EngineLog.ProviderFailed(_logger, provider, (error as ProviderException)?.IsTimeout == true, error.GetType().Name, run.PipelineId);
                    terminal = new ErrorBody { Type = ErrorTypes.UpstreamError, Message = $"The model provider '{provider}' failed during the stream.", Provider = provider };
                    terminalStatus = 502;
                    break;
                }
            }

            if (terminal is null)
            {
                var t0 = Stopwatch.GetTimestamp();
                StreamMaskResult rest;
                try
                {
                    rest = masker.Flush();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    EngineLog.StepFailed(_logger, PipelineStepNames.ScanOutput, ex.GetType().Name, run.PipelineId, true);
                    rest = new StreamMaskResult("");
                    terminal = FailClosedError(run);
                }

                scanTicks += Stopwatch.GetTimestamp() - t0;
                if (rest.SafeText.Length > 0)
                {
                    emitted.Append(rest.SafeText);
                    yield return Chunk(new ChatDelta { Content = rest.SafeText });
                }

                if (rest.Blocked is { } blocked)
                {
                    terminal = ScanOutputStep.BlockRefusal(run, [blocked.Finding.Type]).Error;
                }
            }

            // Output bookkeeping: the model call's and scan_output's timings, detections, redactions.
            var modelTicks = Stopwatch.GetTimestamp() - state.StartTimestamp - scanTicks;
            run.Steps.Add(new StepInfo { Name = PipelineStepNames.CallModel, Outcome = terminalStatus == 502 ? "error" : "pass", DurationUs = Math.Max(0, modelTicks * 1_000_000 / Stopwatch.Frequency) });
            var actions = new List<string>();
            foreach (var e in masker.Findings)
            {
                var action = ScanOutputStep.Action(run, e);
                actions.Add(action);
                run.Detections.Add(ScanOutputStep.OutputDetection(e, action));
                run.Classification = NormalizeInputStep.Max(run.Classification, e.IsSecret ? Classification.Restricted : Classification.Confidential);
            }

            run.Redactions.AddRange(masker.Redactions);
            run.Steps.Add(new StepInfo { Name = PipelineStepNames.ScanOutput, Outcome = terminal?.BlockedBy == PipelineStepNames.ScanOutput ? "block" : ModeRules.Strongest(actions), DurationUs = scanTicks * 1_000_000 / Stopwatch.Frequency });

            var toolCalls = tools.Values.Select((t, i) => new ToolCall
            {
                Id = t.Id ?? $"call_{i}",
                Type = "function",
                Function = new FunctionCall { Name = t.Name ?? "", Arguments = t.Args.Length == 0 ? "{}" : t.Args.ToString() },
            }).ToList();
            run.ModelResult = new ProviderResult
            {
                Model = run.Model,
                Content = "",
                ToolCalls = toolCalls,
                FinishReason = finish ?? (toolCalls.Count > 0 ? "tool_calls" : "stop"),
                PromptTokens = Math.Max(0, promptTokens ?? TokenEstimator.CountMessages(run.ProviderMessages ?? run.Request.Messages, run.Request.Tools)),
                CompletionTokens = Math.Max(0, completionTokens ?? (rawCharacters + 3) / 4),
            };
            run.OutputContent = emitted.ToString();

            if (terminal is null)
            {
                if (toolCalls.Any(t => !IsToolName(t.Function.Name)))
                {
                    terminal = new ErrorBody { Type = ErrorTypes.UpstreamError, Message = $"The model provider '{run.Provider.Name}' streamed an invalid tool call.", Provider = run.Provider.Name };
                    terminalStatus = 502;
                }
                else
                {
                    await PipelineExecutor.RunAsync([_toolCallsStep], run, OnStepFailed(run), CancellationToken.None).ConfigureAwait(false);
                    if (run.Refusal is { } refusal)
                    {
                        terminal = refusal.Error;
                        terminalStatus = refusal.StatusCode;
                    }
                }
            }

            if (terminal is null)
            {
                for (var i = 0; i < run.OutputToolCalls.Count; i++)
                {
                    var tc = run.OutputToolCalls[i];
                    yield return Chunk(new ChatDelta { ToolCalls = [new ToolCallDelta { Index = i, Id = tc.Id, Type = tc.Type, Function = new FunctionCallDelta { Name = tc.Function.Name, Arguments = tc.Function.Arguments } }] });
                }

                yield return Chunk(new ChatDelta(), run.OutputFinishReason);
            }

            await PipelineExecutor.RunAsync([_costStep], run, OnStepFailed(run), CancellationToken.None, evenIfRefused: true).ConfigureAwait(false);

            ChatCompletionChunk last;
            ChatCompletionResponse? stored = null;
            var headers = Headers(run.Identity, run.Session.Id, run.Classification, run.PipelineId);
            try
            {
                if (terminal is not null)
                {
                    Correlate(terminal, run.Identity, run.Session.Id, run.TaskId, run.PipelineId);
                    terminal.Classification ??= run.Classification.ToWire();
                    EngineLog.Refused(_logger, terminal.Type, terminal.BlockedBy, run.PipelineId, run.Identity.AgentId);
                    await AppendAsync(ChatEvent(run, terminal.Type == ErrorTypes.UpstreamError ? "chat.failed" : "chat.blocked", terminal.Type == ErrorTypes.UpstreamError ? "error" : "block", terminal)).ConfigureAwait(false);
                    last = new ChatCompletionChunk { Error = terminal };
                }
                else
                {
                    await AppendAsync(ChatEvent(run, "chat.completed", CompletedDecision(run), null)).ConfigureAwait(false);
                    var usage = new UsageInfo { PromptTokens = run.ModelResult.PromptTokens, CompletionTokens = run.ModelResult.CompletionTokens, TotalTokens = run.ModelResult.PromptTokens + run.ModelResult.CompletionTokens };
                    last = new ChatCompletionChunk { Id = id, Object = "chat.completion.chunk", Created = created, Model = run.Model, Choices = [], Usage = usage, Tappass = Metadata(run) };
                    stored = new ChatCompletionResponse
                    {
                        Id = id,
                        Created = created,
                        Model = run.Model,
                        Choices = [new ChatChoice { Message = new ChatCompletionMessage { Role = "assistant", Content = run.OutputToolCalls.Count > 0 && emitted.Length == 0 ? null : emitted.ToString(), ToolCalls = run.OutputToolCalls.Count > 0 ? [.. run.OutputToolCalls] : null }, FinishReason = run.OutputFinishReason }],
                        Usage = usage,
                        Tappass = last.Tappass,
                    };
                }
            }
            catch (AuditUnavailableException)
            {
                terminal = Correlate(Unavailable(), run.Identity, run.Session.Id, run.TaskId, run.PipelineId);
                terminalStatus = 503;
                stored = null;
                last = new ChatCompletionChunk { Error = terminal };
            }

            await CompleteIdempotencyAsync(state.IdempotencyScope, terminal is null ? 200 : terminalStatus, headers, terminal, stored).ConfigureAwait(false);
            state.IdempotencyScope = null;
            state.Finished = true;
            yield return last;
        }
        finally
        {
            await state.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A stream that was disposed before its end: release the budget, audit the cancellation, forget the
    /// idempotency key so a retry runs again.</summary>
    private async ValueTask AbandonStreamAsync(StreamState state)
    {
        // The model was already generating: charge the estimate rather than nothing.
        await SettleUnusedAsync(state.Run, state.Run.EstimatedUsd).ConfigureAwait(false);
        try
        {
            await AppendAsync(ChatEvent(state.Run, "chat.cancelled", "error", null)).ConfigureAwait(false);
        }
        catch (AuditUnavailableException)
        {
            // Already logged; the client is gone, there is nobody to answer.
        }

        if (state.IdempotencyScope is { } s)
        {
            state.IdempotencyScope = null;
            await _stores.Idempotency.AbandonAsync(s, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static ErrorBody FailClosedError(ChatRun run) =>
        Refusal.PolicyBlock(PipelineStepNames.ScanOutput, "scan_output failed, so the answer is refused (fail closed)", run.Classification, new JsonBag().Add("error", "step_failed").Build()).Error;
}
