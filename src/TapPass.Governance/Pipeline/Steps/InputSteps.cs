using TapPass.Governance.Detection;
using TapPass.Governance.Engine;
using TapPass.Governance.Inspection;
using TapPass.Governance.Policy;
using TapPass.Governance.State;
using TapPass.Protocol;

namespace TapPass.Governance.Pipeline.Steps;

/// <summary>Services the steps share.</summary>
internal sealed record PipelineServices(
    EngineSettings Settings,
    ITextInspector Inspector,
    IBudgetStore Budgets,
    IRateLimitStore RateLimits,
    TimeProvider Time);

/// <summary>
/// <c>normalize_input</c>: collects every message's text and runs the detection layer over it once (normalisation,
/// entities, injection, exfiltration, classification); the detect steps then decide on the results. Time the
/// inspector reports per step is moved to those steps.
/// </summary>
internal sealed class NormalizeInputStep(PipelineServices services) : IPipelineStep
{
    public string Name => PipelineStepNames.NormalizeInput;

    public bool Critical => true;

    public ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        var messages = run.Request.Messages;
        long moved = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var content = messages[i].Content;
            if (string.IsNullOrEmpty(content))
            {
                continue;
            }

            var text = new InputText(i, messages[i].Role, content);
            var inspection = services.Inspector.Inspect(content);
            text.Inspection = inspection;
            text.Entities = ValidatedEntities(inspection, content.Length);
            run.Texts.Add(text);
            run.Classification = Max(run.Classification, inspection.Classification);
            if (inspection.StepTicks is { } ticks)
            {
                foreach (var (step, t) in ticks)
                {
                    if (step != Name && t > 0)
                    {
                        run.ExtraTicks[step] = run.ExtraTicks.GetValueOrDefault(step) + t;
                        moved += t;
                    }
                }
            }
        }

        run.ExtraTicks[Name] = run.ExtraTicks.GetValueOrDefault(Name) - moved;
        return ValueTask.FromResult(StepResult.Pass);
    }

    /// <summary>Checks offsets (a detector bug must not corrupt masking) and resolves overlaps.</summary>
    internal static List<EntityFinding> ValidatedEntities(InspectionResult inspection, int length)
    {
        foreach (var e in inspection.Entities)
        {
            if (e.Finding.Start < 0 || e.Finding.Length <= 0 || e.Finding.End > length)
            {
                throw new InspectionException(e.Step, "The detection layer returned an entity outside the text.");
            }
        }

        return FindingOverlap.RemoveOverlaps(inspection.Entities);
    }

    internal static Classification Max(Classification a, Classification b) => a >= b ? a : b;
}

/// <summary>Shared logic of <c>detect_pii</c> and <c>detect_secrets</c> (input phase).</summary>
internal abstract class EntityStep : IPipelineStep
{
    public abstract string Name { get; }

    public bool Critical => true;

    protected abstract bool Selects(EntityFinding entity);

    protected abstract string Configured(EffectiveFlags flags);

    protected abstract string Describe(IReadOnlyCollection<string> types);

    public ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        var actions = new List<string>();
        var blockedTypes = new SortedSet<string>(StringComparer.Ordinal);
        var kinds = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var text in run.Texts)
        {
            foreach (var e in text.Entities)
            {
                if (!Selects(e))
                {
                    continue;
                }

                var action = ModeRules.Apply(run, Configured(run.Flags), Name);
                actions.Add(action);
                run.Detections.Add(new DetectionInfo
                {
                    Step = Name,
                    Type = e.Finding.Type,
                    Phase = "input",
                    Start = e.Finding.Start,
                    Length = e.Finding.Length,
                    Action = action,
                    Score = Math.Round(e.Finding.Score, 4),
                    MessageIndex = text.MessageIndex,
                });

                if (action is "mask" or "redact")
                {
                    text.ToMask.Add(e.Finding);
                }
                else if (action == "block")
                {
                    blockedTypes.Add(e.Finding.Type);
                    if (e.Finding.Kind is { } k)
                    {
                        kinds.Add(k);
                    }
                }
            }
        }

        var outcome = ModeRules.Strongest(actions);
        if (blockedTypes.Count == 0)
        {
            return ValueTask.FromResult(new StepResult(outcome));
        }

        var details = new JsonBag().Add("types", blockedTypes);
        if (kinds.Count > 0)
        {
            details.Add("kinds", kinds);
        }

        return ValueTask.FromResult(new StepResult("block", Refusal.PolicyBlock(Name, Describe(blockedTypes), run.Classification, details.Build())));
    }

    internal static string ConfiguredPii(EffectiveFlags flags) => flags.Pii switch
    {
        PiiRule.Mask => "mask",
        PiiRule.Block => "block",
        PiiRule.Flag => "flag",
        _ => "none",
    };

    internal static string ConfiguredSecrets(EffectiveFlags flags) => flags.Secrets switch
    {
        SecretsRule.Redact => "redact",
        SecretsRule.Block => "block",
        _ => "flag",
    };
}

/// <summary><c>detect_pii</c>: acts on PII per the <c>pii</c> flag and the mode.</summary>
internal sealed class DetectPiiStep : EntityStep
{
    public override string Name => PipelineStepNames.DetectPii;

    protected override bool Selects(EntityFinding entity) => !entity.IsSecret;

    protected override string Configured(EffectiveFlags flags) => ConfiguredPii(flags);

    protected override string Describe(IReadOnlyCollection<string> types) => "PII detected in prompt: " + string.Join(", ", types);
}

/// <summary><c>detect_secrets</c>: acts on credentials per the <c>secrets</c> flag and the mode.</summary>
internal sealed class DetectSecretsStep : EntityStep
{
    public override string Name => PipelineStepNames.DetectSecrets;

    protected override bool Selects(EntityFinding entity) => entity.IsSecret;

    protected override string Configured(EffectiveFlags flags) => ConfiguredSecrets(flags);

    protected override string Describe(IReadOnlyCollection<string> types) => "Secret detected in prompt";
}

/// <summary>
/// <c>detect_injection</c>: the highest injection score over user and tool messages is always reported; at or above
/// the configured threshold the call is blocked (enforce, lockdown) or flagged (observe, warn).
/// </summary>
internal sealed class DetectInjectionStep(PipelineServices services) : IPipelineStep
{
    public string Name => PipelineStepNames.DetectInjection;

    public bool Critical => true;

    public ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        InputText? worst = null;
        foreach (var text in run.Texts.Where(t => t.IsUntrusted))
        {
            if (worst is null || text.Inspection.Injection.Score > worst.Inspection.Injection.Score)
            {
                worst = text;
            }
        }

        if (worst is null)
        {
            run.InjectionScore = 0;
            return ValueTask.FromResult(StepResult.Pass);
        }

        var score = Math.Clamp(worst.Inspection.Injection.Score, 0, 1);
        run.InjectionScore = Math.Round(score, 4);
        run.InjectionSignals = worst.Inspection.Injection.Signals;
        var threshold = services.Settings.InjectionThreshold;
        if (score < threshold)
        {
            return ValueTask.FromResult(StepResult.Pass);
        }

        var action = ModeRules.Apply(run, "block", Name);
        run.Detections.Add(new DetectionInfo
        {
            Step = Name,
            Type = "PROMPT_INJECTION",
            Phase = "input",
            Start = 0,
            Length = worst.Text.Length,
            Action = action,
            Score = run.InjectionScore,
            MessageIndex = worst.MessageIndex,
        });

        if (action != "block")
        {
            return ValueTask.FromResult(new StepResult(action));
        }

        var signals = run.InjectionSignals.Count > 0 ? ": " + string.Join(", ", run.InjectionSignals) : "";
        var reason = $"Prompt injection detected (score {run.InjectionScore:0.00} at or above threshold {threshold:0.00}){signals}";
        var details = new JsonBag().Add("score", run.InjectionScore).Add("threshold", threshold).Add("signals", run.InjectionSignals).Build();
        return ValueTask.FromResult(new StepResult("block", Refusal.PolicyBlock(Name, reason, run.Classification, details)));
    }
}

/// <summary><c>detect_exfiltration</c>: bulk-data requests and exfiltration channels in user and tool messages.</summary>
internal sealed class DetectExfiltrationStep : IPipelineStep
{
    public string Name => PipelineStepNames.DetectExfiltration;

    public bool Critical => true;

    public ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        var found = new List<ExfiltrationResult>();
        string action = "pass";
        foreach (var text in run.Texts.Where(t => t.IsUntrusted))
        {
            foreach (var x in text.Inspection.Exfiltration)
            {
                found.Add(x);
                action = ModeRules.Apply(run, "block", Name);
                run.Detections.Add(new DetectionInfo
                {
                    Step = Name,
                    Type = "EXFILTRATION",
                    Phase = "input",
                    Start = 0,
                    Length = text.Text.Length,
                    Action = action,
                    Score = 1.0,
                    MessageIndex = text.MessageIndex,
                });
            }
        }

        if (found.Count == 0 || action != "block")
        {
            return ValueTask.FromResult(new StepResult(found.Count == 0 ? "pass" : action));
        }

        var reason = string.Join("; ", found.Select(f => f.Reason).Distinct(StringComparer.Ordinal));
        var details = new JsonBag()
            .Add("kinds", found.Select(f => f.Kind).Distinct(StringComparer.Ordinal))
            .Add("targets", found.Select(f => f.Target).OfType<string>().Distinct(StringComparer.Ordinal))
            .Build();
        return ValueTask.FromResult(new StepResult("block", Refusal.PolicyBlock(Name, reason, run.Classification, details)));
    }
}

/// <summary>
/// <c>classify_data</c>: the request's classification is the highest of its texts, with floors: a secret makes it
/// at least RESTRICTED, other PII at least CONFIDENTIAL. Not a security step: a failure degrades.
/// </summary>
internal sealed class ClassifyDataStep : IPipelineStep
{
    public string Name => PipelineStepNames.ClassifyData;

    public bool Critical => false;

    public ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        var c = run.Classification;
        foreach (var text in run.Texts)
        {
            c = NormalizeInputStep.Max(c, Floor(text.Inspection.Classification, text.Entities));
        }

        run.Classification = c;
        return ValueTask.FromResult(StepResult.Pass);
    }

    internal static Classification Floor(Classification classification, IEnumerable<EntityFinding> entities)
    {
        var c = classification;
        foreach (var e in entities)
        {
            c = NormalizeInputStep.Max(c, e.IsSecret ? Classification.Restricted : Classification.Confidential);
        }

        return c;
    }
}

/// <summary>
/// <c>budget</c>: estimates the call's cost (prompt tokens from <see cref="TokenEstimator"/>, completion tokens from
/// <c>max_tokens</c> or the configured estimate, prices from the price table) and reserves it against the per-call,
/// per-session and per-day caps of the <c>budget</c> flag; the reservation is settled with the actual cost by
/// <c>cost</c>. Spend is tracked under every flag value, caps apply only where the flag sets them.
/// </summary>
internal sealed class BudgetStep(PipelineServices services) : IPipelineStep
{
    public string Name => PipelineStepNames.Budget;

    public bool Critical => true;

    public async ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        var settings = services.Settings;
        var limits = run.Flags.Budget;
        var prompt = TokenEstimator.CountMessages(run.Request.Messages, run.Request.Tools);
        var completion = run.Request.MaxCompletionTokens ?? run.Request.MaxTokens ?? settings.CompletionEstimateTokens;
        var estimate = settings.Prices.Cost(run.Model, prompt, Math.Max(0, completion));
        run.EstimatedUsd = estimate;

        string? scope = null;
        decimal spent = 0, cap = 0;
        if (limits.PerCallUsd is { } perCall && estimate > perCall)
        {
            (scope, spent, cap) = ("call", 0, perCall);
        }

        var day = DateOnly.FromDateTime(services.Time.GetUtcNow().UtcDateTime);
        var reservation = await services.Budgets.TryReserveAsync(
            new BudgetRequest(run.Session.Id, run.AgentKey, day, scope is null ? estimate : 0, limits.PerSessionUsd, limits.PerDayUsd),
            cancellationToken).ConfigureAwait(false);
        run.Budget = reservation;
        if (scope is null && !reservation.Granted)
        {
            scope = reservation.DeniedBy;
            (spent, cap) = scope == "session"
                ? (reservation.SessionSpentUsd, limits.PerSessionUsd ?? 0)
                : (reservation.DailySpentUsd, limits.PerDayUsd ?? 0);
        }

        if (scope is null)
        {
            return StepResult.Pass;
        }

        var action = ModeRules.Apply(run, "block", Name);
        if (action != "block")
        {
            return new StepResult(action);
        }

        var flag = run.Flags.Values["budget"];
        var reason = scope == "call"
            ? $"Estimated cost ${JsonBag.Usd(estimate)} exceeds the per-call cap ${JsonBag.Usd(cap)} (budget={flag})"
            : $"{(scope == "session" ? "Session" : "Daily")} budget exceeded: ${JsonBag.Usd(spent)} spent + ${JsonBag.Usd(estimate)} estimated > ${JsonBag.Usd(cap)} cap (budget={flag})";
        var details = new JsonBag().Add("scope", scope).Add("spent_usd", spent).Add("estimate_usd", estimate).Add("cap_usd", cap).Add("budget", flag).Build();
        return new StepResult("block", Refusal.PolicyBlock(Name, reason, run.Classification, details));
    }
}

/// <summary>
/// <c>rate_limit</c>: a token bucket per agent. [ours] PROTOCOL.md has no rate-limit error, so a refusal is a 403
/// <c>policy_block</c> with <c>blocked_by = "rate_limit"</c> and a <c>Retry-After</c> header (also in
/// <c>step_details.retry_after_ms</c>); clients do not retry it automatically. The limit protects the gateway, so it
/// applies in every mode (a per-call <c>mode=observe</c> cannot lift it). A failing rate-limit store degrades
/// (fails open) rather than refusing every call.
/// </summary>
internal sealed class RateLimitStep(PipelineServices services) : IPipelineStep
{
    public string Name => PipelineStepNames.RateLimit;

    public bool Critical => false;

    public async ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        if (services.Settings.RateLimit is not { } rule)
        {
            return StepResult.Skip;
        }

        var lease = await services.RateLimits.TryAcquireAsync(run.AgentKey, rule, services.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (lease.Acquired)
        {
            return StepResult.Pass;
        }

        var retry = TimeSpan.FromSeconds(Math.Ceiling(lease.RetryAfter.TotalSeconds));
        var details = new JsonBag().Add("retry_after_ms", (long)lease.RetryAfter.TotalMilliseconds).Build();
        return new StepResult("block", Refusal.PolicyBlock(Name, $"Rate limit exceeded for this agent; retry in {retry.TotalSeconds:0} s", run.Classification, details, retry));
    }
}
