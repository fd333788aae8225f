using System.Diagnostics;
using TapPass.Governance.Policy;
using TapPass.Protocol;

namespace TapPass.Governance.Pipeline;

/// <summary>What a step decided.</summary>
/// <param name="Outcome"><c>pass</c>, <c>mask</c>, <c>redact</c>, <c>flag</c>, <c>block</c>, <c>skip</c>, <c>modify</c>, <c>error</c>.</param>
/// <param name="Refusal">Set when the step stops the call.</param>
internal readonly record struct StepResult(string Outcome, Refusal? Refusal = null)
{
    public static StepResult Pass { get; } = new("pass");

    public static StepResult Skip { get; } = new("skip");
}

/// <summary>A named pipeline step.</summary>
internal interface IPipelineStep
{
    string Name { get; }

    /// <summary>
    /// Security steps fail closed: an exception refuses the call (403 <c>policy_block</c>, <c>blocked_by</c> = the step).
    /// Other steps fail open: the pipeline continues and the response says <c>degraded: true</c>.
    /// </summary>
    bool Critical { get; }

    ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken);
}

/// <summary>How the governance mode turns a configured action into the action taken (PROTOCOL.md §5).</summary>
internal static class ModeRules
{
    /// <summary>
    /// observe: nothing is changed or blocked, detections are reported as <c>flag</c>;
    /// warn: blocks become <c>flag</c>, masking and redaction still apply;
    /// enforce: the configured action;
    /// lockdown: any detection blocks.
    /// Break-glass <c>observe</c> suspends blocking on top of the mode (blocks become <c>flag</c>).
    /// </summary>
    /// <param name="mode">Mode.</param>
    /// <param name="blockingSuspended">Break-glass observe in force.</param>
    /// <param name="configured"><c>block</c>, <c>mask</c>, <c>redact</c>, <c>flag</c> or <c>none</c>.</param>
    /// <param name="wouldBlock">True when the call would have been blocked under enforce/lockdown semantics.</param>
    public static string Apply(GovernanceMode mode, bool blockingSuspended, string configured, out bool wouldBlock)
    {
        var action = mode switch
        {
            GovernanceMode.Observe => configured == "none" ? "none" : "flag",
            GovernanceMode.Warn => configured == "block" ? "flag" : configured,
            GovernanceMode.Lockdown => "block",
            _ => configured,
        };

        var strict = mode == GovernanceMode.Lockdown || configured == "block";
        if (blockingSuspended && action == "block")
        {
            action = "flag";
        }

        wouldBlock = strict && action != "block";
        return action;
    }

    public static string Apply(ChatRun run, string configured, string step)
    {
        var action = Apply(run.Flags.Mode, run.BreakGlassObserve is not null, configured, out var wouldBlock);
        if (wouldBlock && !run.WouldBlock.Contains(step))
        {
            run.WouldBlock.Add(step);
        }

        return action;
    }

    /// <summary>The step outcome for a set of actions: the strongest one, <c>pass</c> when none acted.</summary>
    public static string Strongest(IEnumerable<string> actions)
    {
        var best = "pass";
        foreach (var a in actions)
        {
            if (Rank(a) > Rank(best))
            {
                best = a;
            }
        }

        return best;

        static int Rank(string a) => a switch
        {
            "block" => 4,
            "mask" or "redact" => 3,
            "flag" => 2,
            _ => 0,
        };
    }
}

/// <summary>Runs steps in order with per-step timing, stopping at the first refusal.</summary>
internal static class PipelineExecutor
{
    /// <param name="steps">Steps, in order.</param>
    /// <param name="run">The call.</param>
    /// <param name="onStepFailed">Called with the step name and exception when a step throws.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <param name="evenIfRefused">Run even when the call was already refused (bookkeeping such as <c>cost</c>).</param>
    public static async ValueTask RunAsync(IEnumerable<IPipelineStep> steps, ChatRun run, Action<string, Exception> onStepFailed, CancellationToken cancellationToken, bool evenIfRefused = false)
    {
        foreach (var step in steps)
        {
            if (run.Refusal is not null && !evenIfRefused)
            {
                return;
            }

            var start = Stopwatch.GetTimestamp();
            StepResult result;
            try
            {
                result = await step.RunAsync(run, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // A step's failure is turned into fail-closed or degraded, by design.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                onStepFailed(step.Name, ex);
                if (step.Critical)
                {
                    result = new StepResult("error", Refusal.PolicyBlock(
                        step.Name,
                        $"{step.Name} failed, so the request is refused (fail closed)",
                        run.Classification,
                        new Engine.JsonBag().Add("error", "step_failed").Build()));
                }
                else
                {
                    run.Degraded = true;
                    result = new StepResult("error");
                }
            }

            Record(run, step.Name, result.Outcome, start);
            if (result.Refusal is not null && run.Refusal is null)
            {
                run.Refusal = result.Refusal;
            }
        }
    }

    /// <summary>Adds a <see cref="StepInfo"/> timed from <paramref name="startTimestamp"/> plus any extra ticks.</summary>
    public static void Record(ChatRun run, string name, string outcome, long startTimestamp)
    {
        var ticks = Stopwatch.GetTimestamp() - startTimestamp + run.ExtraTicks.GetValueOrDefault(name);
        run.Steps.Add(new StepInfo { Name = name, Outcome = outcome, DurationUs = Math.Max(0, ticks * 1_000_000 / Stopwatch.Frequency) });
    }
}
