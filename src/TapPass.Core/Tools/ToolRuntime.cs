using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TapPass.Diagnostics;
using TapPass.Protocol;

namespace TapPass;

/// <summary>
/// The govern → run → report sequence of one governed tool (PROTOCOL.md §6), shared by delegate and
/// <c>AIFunction</c> wrappers. Immutable; <see cref="WithResumeToken"/> makes a copy.
/// </summary>
internal sealed class ToolRuntime
{
    /// <summary>Largest argument object sent (the gateway's limit).</summary>
    public const int MaxArgumentBytes = 1_000_000;

    private const int MaxReasonLength = 1024;
    private const int MaxFieldLength = 256;
    private const int MaxErrorTypeLength = 128;

    private readonly ITapPassToolGovernor _governor;
    private readonly TapPassToolOptions _governOptions;
    private readonly TapPassToolOptions _reportOptions;

    public ToolRuntime(ITapPassToolGovernor governor, TapPassToolDefinition definition, ToolSettings settings)
    {
        _governor = governor;
        Definition = definition;
        Settings = settings;
        _governOptions = settings.ToCallOptions(includeResumeToken: true);
        _reportOptions = settings.ToCallOptions(includeResumeToken: false);
        Time = (governor as TapPassAgent)?.TimeProvider ?? TimeProvider.System;
        Logger = (governor as TapPassAgent)?.Logger ?? NullLogger.Instance;
    }

    public TapPassToolDefinition Definition { get; }

    public ToolSettings Settings { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    /// <summary>The same tool, resuming an approved call with <paramref name="resumeToken"/>.</summary>
    public ToolRuntime WithResumeToken(string resumeToken, string paramName)
    {
        ArgumentNullException.ThrowIfNull(resumeToken, paramName);
        ToolSettings.CheckResumeToken(resumeToken, paramName);
        return new ToolRuntime(_governor, Definition, Settings with { ResumeToken = resumeToken });
    }

    /// <summary>Governs, runs and reports one call, asynchronously.</summary>
    /// <param name="arguments">The arguments as a JSON object (what the gateway decides on).</param>
    /// <param name="original">The arguments as the tool takes them.</param>
    /// <param name="bind">Binds the gateway's modified arguments; throws <see cref="ToolArgumentBindingException"/> when they do not fit.</param>
    /// <param name="run">Runs the tool.</param>
    /// <param name="measure">Size of the result in bytes (null when there is none); must not throw.</param>
    /// <param name="cancellationToken">Cancellation of the govern and report calls.</param>
    public async ValueTask<TResult> InvokeAsync<TArgs, TResult>(
        JsonElement arguments,
        TArgs original,
        Func<JsonElement, TArgs> bind,
        Func<TArgs, ValueTask<TResult>> run,
        Func<TResult, long?> measure,
        CancellationToken cancellationToken)
    {
        using var activity = StartActivity();
        try
        {
            var decision = await DecideAsync(arguments, activity, cancellationToken).ConfigureAwait(false);
            var args = decision.ModifiedArguments is { } modified ? Bind(bind, modified, decision) : original;
            var started = Time.GetTimestamp();
            TResult result;
            using (TapPassToolContext.Enter(decision.Context))
            {
                try
                {
                    result = await run(args).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    await ReportAsync(decision, ok: false, Time.GetElapsedTime(started), null, ex, cancellationToken).ConfigureAwait(false);
                    throw;
                }
            }

            var elapsed = Time.GetElapsedTime(started);
            await ReportAsync(decision, ok: true, elapsed, measure(result), null, cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch (Exception ex) when (RecordFailure(activity, ex))
        {
            throw; // not reached: RecordFailure only observes
        }
    }

    /// <summary>
    /// Governs, runs and reports one call of a synchronous tool: the gateway calls run on the thread pool (so blocking
    /// on them cannot deadlock under a <see cref="SynchronizationContext"/>); the tool itself runs on the caller's thread.
    /// </summary>
    public TResult Invoke<TArgs, TResult>(
        JsonElement arguments,
        TArgs original,
        Func<JsonElement, TArgs> bind,
        Func<TArgs, TResult> run,
        Func<TResult, long?> measure,
        CancellationToken cancellationToken)
    {
        using var activity = StartActivity();
        try
        {
            var decision = SyncBridge.Run(
                static s => s.Runtime.DecideAsync(s.Arguments, s.Activity, s.Token),
                (Runtime: this, Arguments: arguments, Activity: activity, Token: cancellationToken));
            var args = decision.ModifiedArguments is { } modified ? Bind(bind, modified, decision) : original;
            var started = Time.GetTimestamp();
            TResult result;
            using (TapPassToolContext.Enter(decision.Context))
            {
                try
                {
                    result = run(args);
                }
                catch (Exception ex)
                {
                    var failed = Time.GetElapsedTime(started);
                    SyncBridge.Run(
                        static s => s.Runtime.ReportAsync(s.Decision, ok: false, s.Elapsed, null, s.Error, s.Token),
                        (Runtime: this, Decision: decision, Elapsed: failed, Error: ex, Token: cancellationToken));
                    throw;
                }
            }

            var elapsed = Time.GetElapsedTime(started);
            var size = measure(result);
            SyncBridge.Run(
                static s => s.Runtime.ReportAsync(s.Decision, ok: true, s.Elapsed, s.Size, null, s.Token),
                (Runtime: this, Decision: decision, Elapsed: elapsed, Size: size, Token: cancellationToken));
            return result;
        }
        catch (Exception ex) when (RecordFailure(activity, ex))
        {
            throw; // not reached
        }
    }

    /// <summary>Asks the gateway; returns what to run with, or throws the refusal.</summary>
    internal async ValueTask<ToolDecision> DecideAsync(JsonElement arguments, Activity? activity, CancellationToken cancellationToken)
    {
        var request = new GovernRequest
        {
            SessionId = Settings.SessionId,
            BehaviorId = Settings.BehaviorId,
            Payload = new GovernPayload
            {
                Tool = Definition.Name,
                Args = arguments,
                DefinitionSha256 = Definition.DefinitionSha256,
                Description = Definition.Description,
            },
            Enforcement = new GovernEnforcement { Mode = Settings.Mode == GovernMode.Audit ? "audit" : "enforce" },
        };

        GovernResponse response;
        try
        {
            response = await _governor.GovernToolCallAsync(request, _governOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (TapPassConnectionException ex) when (Settings.Mode == GovernMode.Audit && !cancellationToken.IsCancellationRequested)
        {
            // Audit only: governance is advisory, so an unreachable gateway does not stop the tool. Logged loudly.
            ToolLog.RunningUnverified(Logger, Definition.Name, ex.GetType().Name);
            activity?.SetTag(TapPassDiagnostics.OutcomeTag, "unverified");
            return new ToolDecision(new TapPassToolContext(Definition.Name, Settings.Mode, null, null, null, Settings.SessionId, null), null, null);
        }

        activity?.SetTag(TapPassDiagnostics.PipelineUuidTag, response.PipelineUuid);
        activity?.SetTag(TapPassDiagnostics.SessionIdTag, response.SessionId);
        var outcome = response.Outcome?.Trim().ToLowerInvariant();
        switch (outcome)
        {
            case GovernOutcomes.Allow:
            case GovernOutcomes.Modify:
                ToolLog.Decided(Logger, Definition.Name, outcome, response.PipelineUuid);
                activity?.SetTag(TapPassDiagnostics.OutcomeTag, outcome);
                var context = new TapPassToolContext(
                    Definition.Name, Settings.Mode, outcome, response.CapabilityToken, response.PipelineUuid, response.SessionId ?? Settings.SessionId, response.AuditUrl);
                if (outcome == GovernOutcomes.Allow)
                {
                    return new ToolDecision(context, null, response);
                }

                if (response.ModifiedArgs is not { ValueKind: JsonValueKind.Object } modified)
                {
                    ToolLog.ModifiedArgumentsRejected(Logger, Definition.Name, "modify without an argument object");
                    throw Unbindable(response, "the decision carried no argument object");
                }

                return new ToolDecision(context, modified, response);
            case GovernOutcomes.Block:
            case GovernOutcomes.NeedsApproval:
                activity?.SetTag(TapPassDiagnostics.OutcomeTag, outcome);
                throw Refusal(outcome, response);
            default:
                // Fail closed: an answer we cannot interpret never runs the tool.
                throw new TapPassException($"The TapPass gateway answered /v1/govern for tool '{Definition.Name}' with an unknown outcome; the tool was not run.")
                {
                    ErrorType = ErrorTypes.InvalidResponse,
                    StatusCode = 200,
                };
        }
    }

    /// <summary>Reports the outcome; never throws (a failed report is logged and the tool's outcome stands).</summary>
    internal async ValueTask ReportAsync(ToolDecision decision, bool ok, TimeSpan elapsed, long? resultSize, Exception? error, CancellationToken cancellationToken)
    {
        ToolLog.Ran(Logger, Definition.Name, elapsed.TotalMilliseconds, ok);
        if (!Settings.ReportExecution || decision.Context.Unverified)
        {
            return;
        }

        var report = new ExecutionReport
        {
            SessionId = TapPassSession.IsWellFormedId(decision.Context.SessionId) ? decision.Context.SessionId : null,
            PipelineUuid = decision.Context.PipelineUuid,
            Tool = Definition.Name,
            Ok = ok,
            DurationMs = Math.Round(Math.Max(0, elapsed.TotalMilliseconds), 3),
            ResultSize = ok ? resultSize : null,
            ErrorType = ok ? null : ErrorTypeName(error),
        };

        try
        {
            await _governor.ReportToolExecutionAsync(report, _reportOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ToolLog.ReportFailed(Logger, Definition.Name, ex.GetType().Name);
        }
    }

    /// <summary>The type name of <paramref name="error"/>, restricted to what the gateway accepts (never the message).</summary>
    internal static string ErrorTypeName(Exception? error)
    {
        var name = error?.GetType().Name ?? "Exception";
        var sb = new StringBuilder(Math.Min(name.Length, MaxErrorTypeLength));
        foreach (var c in name)
        {
            if (sb.Length == MaxErrorTypeLength)
            {
                break;
            }

            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '`' or '+' or '<' or '>' or ',' or '[' or ']')
            {
                sb.Append(c);
            }
        }

        return sb.Length == 0 ? "Exception" : sb.ToString();
    }

    /// <summary>Throws unless <paramref name="utf8Length"/> is within <see cref="MaxArgumentBytes"/>.</summary>
    internal void CheckArgumentSize(long utf8Length)
    {
        if (utf8Length > MaxArgumentBytes)
        {
            throw new ArgumentException($"The arguments of tool '{Definition.Name}' exceed {MaxArgumentBytes} bytes of JSON; the tool was not run.");
        }
    }

    private TArgs Bind<TArgs>(Func<JsonElement, TArgs> bind, JsonElement modified, ToolDecision decision)
    {
        try
        {
            return bind(modified);
        }
        catch (ToolArgumentBindingException ex)
        {
            ToolLog.ModifiedArgumentsRejected(Logger, Definition.Name, ex.Message);
            throw Unbindable(decision.Response!, ex.Message);
        }
    }

    private PolicyBlockException Unbindable(GovernResponse response, string problem) => WithIds(
        new PolicyBlockException($"The TapPass gateway modified the arguments of tool '{Definition.Name}', but they do not bind to its parameters ({problem}); the tool was not run.")
        {
            BlockedBy = Bounded(response.BlockedBy, MaxFieldLength) ?? "modified_arguments",
            Reason = $"Modified arguments do not bind to the parameters of '{Definition.Name}' ({problem}).",
            ErrorType = ErrorTypes.PolicyBlock,
            StatusCode = 200,
        },
        response);

    private GovernanceDecision Refusal(string outcome, GovernResponse response)
    {
        var tool = Definition.Name;
        var reason = Bounded(response.Reason, MaxReasonLength);
        var blockedBy = Bounded(response.BlockedBy, MaxFieldLength);
        GovernanceDecision refusal;
        if (outcome == GovernOutcomes.NeedsApproval)
        {
            var approval = response.Approval;
            refusal = new ApprovalRequiredException($"Tool '{tool}' is held for approval" + (reason is null ? "." : ": " + reason))
            {
                ApprovalUrl = Bounded(approval?.ApprovalUrl, 2048) ?? "",
                ApprovalId = Bounded(approval?.ApprovalId, MaxFieldLength),
                ResumeToken = Bounded(approval?.ResumeToken, ToolSettings.MaxResumeTokenLength) ?? "",
                ExpiresAt = approval?.ExpiresAt,
                Reason = reason ?? Bounded(approval?.Reason, MaxReasonLength),
                BlockedBy = blockedBy ?? Bounded(approval?.Rule, MaxFieldLength),
                ErrorType = ErrorTypes.ApprovalRequired,
            };
        }
        else if (Bounded(response.Violation, MaxFieldLength) is { } violation)
        {
            refusal = new ToolIntegrityViolationException($"Tool '{tool}' refused: tool integrity violation ({violation})" + (reason is null ? "." : ": " + reason))
            {
                ToolName = tool,
                Violation = violation,
                ErrorType = ErrorTypes.ToolIntegrityViolation,
            };
        }
        else if (Bounded(response.RequiredTier, MaxFieldLength) is { } required)
        {
            var actual = Bounded(response.ActualTier, MaxFieldLength) ?? "";
            refusal = new TrustTierDeniedException($"Tool '{tool}' needs trust tier '{required}'" + (actual.Length > 0 ? $"; the caller has '{actual}'." : "."))
            {
                RequiredTier = required,
                ActualTier = actual,
                ErrorType = ErrorTypes.TrustTierDenied,
            };
        }
        else
        {
            refusal = new PolicyBlockException($"Tool '{tool}' blocked by {blockedBy ?? "policy"}" + (reason is null ? "." : ": " + reason))
            {
                BlockedBy = blockedBy ?? "",
                Reason = reason ?? "",
                ErrorType = ErrorTypes.PolicyBlock,
            };
        }

        refusal.StatusCode = 200;
        Diagnostics.Log.DecisionReceived(Logger, "tool", refusal.ErrorType!, 200, blockedBy, response.PipelineUuid);
        return WithIds(refusal, response);
    }

    private static T WithIds<T>(T decision, GovernResponse response)
        where T : GovernanceDecision
    {
        decision.SessionId = response.SessionId;
        decision.TaskId = response.TaskId;
        decision.AgentUuid = response.AgentUuid;
        decision.PipelineUuid = response.PipelineUuid;
        decision.AuditUrl = response.AuditUrl;
        decision.Classification = ClassificationNames.TryParse(response.Classification, out var c) ? c : null;
        return decision;
    }

    private static string? Bounded(string? value, int max) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= max ? value : value[..max] + "…";

    private Activity? StartActivity()
    {
        var activity = TapPassDiagnostics.ActivitySource.StartActivity(TapPassDiagnostics.ToolActivity, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TapPassDiagnostics.ToolTag, Definition.Name);
        }

        return activity;
    }

    private static bool RecordFailure(Activity? activity, Exception exception)
    {
        if (activity is not null)
        {
            var type = (exception as TapPassException)?.ErrorType ?? exception.GetType().Name;
            activity.SetTag(TapPassDiagnostics.ErrorTypeTag, type);
            activity.SetTag(TapPassDiagnostics.BlockedTag, exception is GovernanceDecision);
            activity.SetStatus(ActivityStatusCode.Error, type);
        }

        return false;
    }
}

/// <summary>What a decision lets run: the context, and the gateway's arguments on <c>modify</c>.</summary>
internal sealed record ToolDecision(TapPassToolContext Context, JsonElement? ModifiedArguments, GovernResponse? Response);

/// <summary>The gateway's modified arguments do not fit the tool's parameters. Its message names parameters and types, never values.</summary>
internal sealed class ToolArgumentBindingException : Exception
{
    public ToolArgumentBindingException()
    {
    }

    public ToolArgumentBindingException(string message)
        : base(message)
    {
    }

    public ToolArgumentBindingException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
