using System.Text.Json;
using TapPass.Governance.Engine;
using TapPass.Governance.Inspection;
using TapPass.Governance.Policy.Tools;
using TapPass.Protocol;

namespace TapPass.Governance.Pipeline.Steps;

/// <summary>
/// <c>scan_output</c>: the entity detectors and the classifier on the answer (not the injection and exfiltration
/// detectors, whose verdicts on model output are not acted on; the streaming path does the same). PII and secrets are masked per the flags; <c>pii=block</c>,
/// <c>secrets=block</c> or lockdown refuse the whole answer (403 <c>policy_block</c>, <c>blocked_by</c>
/// <c>scan_output</c>). Fails closed.
/// </summary>
internal sealed class ScanOutputStep(PipelineServices services) : IPipelineStep
{
    public string Name => PipelineStepNames.ScanOutput;

    public bool Critical => true;

    public ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        var content = run.ModelResult?.Content ?? "";
        if (content.Length == 0)
        {
            run.OutputContent = content;
            return ValueTask.FromResult(StepResult.Pass);
        }

        var inspection = services.Inspector.InspectEntities(content);
        var entities = NormalizeInputStep.ValidatedEntities(inspection, content.Length);
        var policy = StreamPolicy(run);
        var actions = new List<string>();
        var toMask = new List<Detection.Finding>();
        var blocked = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var e in entities)
        {
            var action = Action(run, e);
            actions.Add(action);
            run.Detections.Add(OutputDetection(e, action));
            switch (policy.For(e))
            {
                case EntityAction.Mask:
                    toMask.Add(e.Finding);
                    break;
                case EntityAction.Block:
                    blocked.Add(e.Finding.Type);
                    break;
            }
        }

        run.Classification = NormalizeInputStep.Max(run.Classification, ClassifyDataStep.Floor(inspection.Classification, entities));
        if (blocked.Count > 0)
        {
            return ValueTask.FromResult(new StepResult("block", BlockRefusal(run, blocked)));
        }

        if (toMask.Count > 0)
        {
            var masked = services.Inspector.Mask(content, toMask, "output");
            run.OutputContent = masked.Text;
            run.Redactions.AddRange(masked.Redactions);
        }
        else
        {
            run.OutputContent = content;
        }

        return ValueTask.FromResult(new StepResult(ModeRules.Strongest(actions)));
    }

    /// <summary>The action on an output entity after the mode (also used by the streaming path).</summary>
    internal static string Action(ChatRun run, EntityFinding e) =>
        ModeRules.Apply(run, e.IsSecret ? EntityStep.ConfiguredSecrets(run.Flags) : EntityStep.ConfiguredPii(run.Flags), PipelineStepNames.ScanOutput);

    /// <summary>The masker policy for this run's flags and mode.</summary>
    internal static StreamMaskPolicy StreamPolicy(ChatRun run)
    {
        var suspended = run.BreakGlassObserve is not null;
        return new StreamMaskPolicy(
            ToEntityAction(ModeRules.Apply(run.Flags.Mode, suspended, EntityStep.ConfiguredPii(run.Flags), out _)),
            ToEntityAction(ModeRules.Apply(run.Flags.Mode, suspended, EntityStep.ConfiguredSecrets(run.Flags), out _)));

        static EntityAction ToEntityAction(string action) => action switch
        {
            "block" => EntityAction.Block,
            "mask" or "redact" => EntityAction.Mask,
            _ => EntityAction.Pass,
        };
    }

    internal static DetectionInfo OutputDetection(EntityFinding e, string action) => new()
    {
        Step = PipelineStepNames.ScanOutput,
        Type = e.Finding.Type,
        Phase = "output",
        Start = e.Finding.Start,
        Length = e.Finding.Length,
        Action = action,
        Score = Math.Round(e.Finding.Score, 4),
    };

    internal static Refusal BlockRefusal(ChatRun run, IReadOnlyCollection<string> types)
    {
        var details = new JsonBag().Add("types", types).Add("phase", "output").Build();
        var what = types.All(t => t == Detection.EntityTypes.Secret) ? "Secret" : "PII";
        return Refusal.PolicyBlock(PipelineStepNames.ScanOutput, $"{what} detected in answer: {string.Join(", ", types)}", run.Classification, details);
    }
}

/// <summary>
/// <c>tool_calls</c>: the <c>tools</c>, <c>email</c>, <c>files</c> and <c>db</c> rules on every tool call the model
/// made. A refused call refuses the answer (403 <c>policy_block</c>, <c>blocked_by</c> the rule); <c>modify</c>
/// rewrites the call's arguments (e-mail mirror). Under observe and warn a refusal is only flagged.
/// <paramref name="extraChecks"/> (the engine's tier, approval and capability-token checks) runs on each call as it
/// would be returned; a call it holds for approval is withheld from <see cref="ChatRun.OutputToolCalls"/> (fail closed:
/// it is described only in <see cref="ChatRun.ToolApprovals"/>) and gives the outcome <c>needs_approval</c>.
/// </summary>
internal sealed class ToolCallsStep(PipelineServices services, Func<ChatRun, ToolCall, CancellationToken, ValueTask<ToolCallCheck>>? extraChecks = null) : IPipelineStep
{
    public string Name => PipelineStepNames.ToolCalls;

    public bool Critical => true;

    public async ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        var calls = run.ModelResult?.ToolCalls ?? [];
        if (calls.Count == 0)
        {
            return StepResult.Skip;
        }

        var outcomes = new List<string>();
        foreach (var call in calls)
        {
            var args = ParseArguments(call.Function.Arguments);
            var decision = services.Settings.Tools.Evaluate(call.Function.Name, args, run.Flags);
            var final = call;
            if (decision.IsBlock)
            {
                var action = ModeRules.Apply(run, "block", Name);
                outcomes.Add(action);
                if (action == "block")
                {
                    var details = new JsonBag().Add("tool", call.Function.Name).Add("rule", decision.BlockedBy).Build();
                    return new StepResult("block", Refusal.PolicyBlock(
                        decision.BlockedBy ?? ToolRuleEvaluator.ToolPermissions,
                        $"tool call '{call.Function.Name}' refused: {decision.Reason}",
                        run.Classification,
                        details));
                }
            }
            else if (decision.Outcome == "modify" && decision.ModifiedArgs is { } modified && run.Flags.Mode != Policy.GovernanceMode.Observe)
            {
                outcomes.Add("modify");
                final = new ToolCall { Id = call.Id, Type = call.Type, Function = new FunctionCall { Name = call.Function.Name, Arguments = modified.GetRawText() } };
            }

            var check = extraChecks is null ? ToolCallCheck.Pass : await extraChecks(run, final, cancellationToken).ConfigureAwait(false);
            if (check.Refusal is { } refusal)
            {
                return new StepResult("block", refusal);
            }

            if (!check.IsHeld)
            {
                run.OutputToolCalls.Add(final);
            }
        }

        if (run.ToolApprovals.Count > 0)
        {
            return new StepResult("needs_approval");
        }

        return new StepResult(outcomes.Contains("modify") && !outcomes.Contains("flag") ? "modify" : ModeRules.Strongest(outcomes));
    }

    internal static JsonElement? ParseArguments(string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments) || arguments.Length > 1_000_000)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(arguments, new JsonDocumentOptions { MaxDepth = 64 });
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The outcome of the engine's checks on one tool call of an answer.</summary>
/// <param name="Refusal">Set when the call refuses the whole answer.</param>
/// <param name="IsHeld">True when an approval rule holds the call: it is withheld from the answer.</param>
internal readonly record struct ToolCallCheck(Refusal? Refusal, bool IsHeld)
{
    public static ToolCallCheck Pass => default;

    public static ToolCallCheck Held => new(null, true);

    public static ToolCallCheck Refuse(Refusal refusal) => new(refusal, false);
}

/// <summary><c>cost</c>: the call's actual cost from token usage and the price table; settles the budget reservation.
/// Not a security step: a failure degrades.</summary>
internal sealed class CostStep(PipelineServices services) : IPipelineStep
{
    public string Name => PipelineStepNames.Cost;

    public bool Critical => false;

    public async ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
    {
        var prompt = run.ModelResult?.PromptTokens ?? 0;
        var completion = run.ModelResult?.CompletionTokens ?? 0;
        var usd = services.Settings.Prices.Cost(run.Model, prompt, completion);
        run.Cost = new CostInfo { PromptTokens = prompt, CompletionTokens = completion, Usd = decimal.Round(usd, 8) };
        if (run.Budget is { } reservation)
        {
            run.Budget = null;
            await services.Budgets.SettleAsync(reservation, usd, cancellationToken).ConfigureAwait(false);
        }

        return StepResult.Pass;
    }
}
