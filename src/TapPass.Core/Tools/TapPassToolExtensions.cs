using Microsoft.Extensions.AI;

namespace TapPass;

/// <summary>
/// The seed's <c>tools = agent.govern([search, send_email, read_file])</c>: wraps tools so that every call is first
/// decided by the TapPass gateway (<c>POST /v1/govern</c>), then run only when allowed, then reported
/// (<c>POST /v1/govern/execution</c>: ok, duration, result size, error type; never the result).
/// </summary>
/// <remarks>
/// <para>
/// Decisions: <c>allow</c> runs the tool; <c>modify</c> runs it with the gateway's arguments (arguments that do not bind
/// to the parameters are a <see cref="PolicyBlockException"/>, and the tool does not run); <c>block</c> throws
/// <see cref="PolicyBlockException"/>, or <see cref="TrustTierDeniedException"/> / <see cref="ToolIntegrityViolationException"/>
/// for tier and integrity refusals; <c>needs_approval</c> throws <see cref="ApprovalRequiredException"/> (resume with
/// <see cref="WithResumeToken{TDelegate}"/>). A non-2xx answer throws its mapped exception; an unreachable gateway throws
/// <see cref="TapPassConnectionException"/> and the tool does not run (fail closed), except in <see cref="GovernMode.Audit"/>.
/// </para>
/// <para>
/// Headers: the agent's key and flags (merged under <see cref="TapPassToolOptions.Flags"/>), and ids from the options,
/// then <see cref="TapPassSession.Current"/>, then <see cref="TapPassAgentOptions.AgentUuid"/>. While the tool runs,
/// <see cref="TapPassToolContext.Current"/> holds the decision (and its capability token). A failed report is logged and
/// never changes the tool's outcome.
/// </para>
/// </remarks>
public static class TapPassToolExtensions
{
    /// <summary>
    /// Wraps <paramref name="tool"/> in a governed delegate of the same type: same parameters, same result, sync or
    /// async (<c>Func&lt;…, TResult&gt;</c>, <c>Func&lt;…, Task&lt;TResult&gt;&gt;</c>, <c>Func&lt;…, ValueTask&lt;TResult&gt;&gt;</c>,
    /// <c>Func&lt;…, Task&gt;</c>, <c>Action&lt;…&gt;</c>, or a custom delegate type), up to 16 parameters passed by value.
    /// Arguments are sent as a JSON object keyed by parameter name; a <see cref="CancellationToken"/> parameter is not
    /// an argument: it cancels the governance calls and is passed to the tool. A synchronous tool blocks on the
    /// gateway calls on the thread pool (safe under a <see cref="SynchronizationContext"/>) and runs on the caller's thread.
    /// </summary>
    /// <typeparam name="TDelegate">The tool's delegate type (inferred from a method group or a typed lambda).</typeparam>
    /// <param name="agent">The agent whose key, flags and session the calls carry; it must implement <see cref="ITapPassToolGovernor"/>.</param>
    /// <param name="tool">The tool: a method group (its name becomes the tool name) or a lambda (give <see cref="TapPassToolOptions.Name"/>).</param>
    /// <param name="options">Name, description, mode, flags, session and serialisation; defaults when null.</param>
    /// <returns>The governed tool.</returns>
    /// <exception cref="ArgumentException">The delegate's shape is not supported, it has no usable name, or an option is malformed.</exception>
    /// <exception cref="TapPassConfigException">A flag is invalid.</exception>
    public static TDelegate Govern<TDelegate>(this ITapPassAgent agent, TDelegate tool, TapPassToolOptions? options = null)
        where TDelegate : Delegate
    {
        var governor = Governor(agent);
        ArgumentNullException.ThrowIfNull(tool);
        return (TDelegate)GovernedDelegate.Create(governor, tool, options).Wrapper;
    }

    /// <summary>
    /// Wraps <paramref name="function"/> in a <see cref="GovernedAIFunction"/> with the same name, description and
    /// schema, for <c>ChatOptions.Tools</c> and <c>FunctionInvokingChatClient</c>.
    /// </summary>
    /// <param name="agent">The agent; it must implement <see cref="ITapPassToolGovernor"/>.</param>
    /// <param name="function">The function; its name must be 1-128 characters of <c>[A-Za-z0-9_.:/-]</c>.</param>
    /// <param name="options">Mode, flags, session; <see cref="TapPassToolOptions.Name"/>, <see cref="TapPassToolOptions.Description"/> and <see cref="TapPassToolOptions.SerializerOptions"/> are ignored (the function's own are kept).</param>
    /// <exception cref="ArgumentException">The function is already governed, its name is not acceptable, or an option is malformed.</exception>
    public static GovernedAIFunction Govern(this ITapPassAgent agent, AIFunction function, TapPassToolOptions? options = null)
    {
        var governor = Governor(agent);
        ArgumentNullException.ThrowIfNull(function);
        return GovernedAIFunction.Create(governor, function, options);
    }

    /// <summary>Wraps each function (see <see cref="Govern(ITapPassAgent, AIFunction, TapPassToolOptions?)"/>).</summary>
    /// <param name="agent">The agent.</param>
    /// <param name="functions">The functions.</param>
    /// <param name="options">Options shared by every function.</param>
    public static IReadOnlyList<GovernedAIFunction> Govern(this ITapPassAgent agent, IEnumerable<AIFunction> functions, TapPassToolOptions? options = null)
    {
        var governor = Governor(agent);
        ArgumentNullException.ThrowIfNull(functions);
        return functions.Select(f => GovernedAIFunction.Create(governor, f ?? throw new ArgumentException("A function is null.", nameof(functions)), options)).ToArray();
    }

    /// <summary>
    /// The seed's list form: turns each method into an <see cref="AIFunction"/> (<c>AIFunctionFactory</c>, named after
    /// the method, snake_case unless <see cref="TapPassToolOptions.SnakeCaseName"/> is false) and governs it, ready for
    /// <c>ChatOptions.Tools</c>.
    /// </summary>
    /// <param name="agent">The agent.</param>
    /// <param name="tools">Method groups, e.g. <c>[Search, SendEmail, ReadFile]</c>.</param>
    /// <param name="options">Options shared by every tool; <see cref="TapPassToolOptions.Name"/> and <see cref="TapPassToolOptions.Description"/> must be null.</param>
    /// <exception cref="ArgumentException">A tool has no usable name (a lambda), or a name or description was given for the whole list.</exception>
    public static IReadOnlyList<GovernedAIFunction> Govern(this ITapPassAgent agent, IEnumerable<Delegate> tools, TapPassToolOptions? options = null)
    {
        var governor = Governor(agent);
        ArgumentNullException.ThrowIfNull(tools);
        if (options?.Name is not null || options?.Description is not null)
        {
            throw new ArgumentException("Name and Description cannot be shared by a list of tools; govern such a tool on its own.", nameof(options));
        }

        var serializerOptions = options?.SerializerOptions ?? ToolSettings.DefaultSerializerOptions;
        return tools.Select(tool =>
        {
            if (tool is null)
            {
                throw new ArgumentException("A tool is null.", nameof(tools));
            }

            var function = AIFunctionFactory.Create(tool, new AIFunctionFactoryOptions
            {
                Name = GovernedDelegate.DeriveName(tool.Method, options?.SnakeCaseName ?? true),
                SerializerOptions = serializerOptions,
            });
            return GovernedAIFunction.Create(governor, function, options);
        }).ToArray();
    }

    /// <summary>
    /// The same governed tool, resuming a call that was held for approval: its next calls send
    /// <paramref name="resumeToken"/> (<see cref="ApprovalRequiredException.ResumeToken"/>) as <c>X-TapPass-Resume-Token</c>.
    /// Call it with the identical arguments once a reviewer approved; the token is single-use.
    /// </summary>
    /// <typeparam name="TDelegate">The tool's delegate type.</typeparam>
    /// <param name="governedTool">A delegate returned by <see cref="Govern{TDelegate}"/>.</param>
    /// <param name="resumeToken">The token.</param>
    /// <exception cref="ArgumentException"><paramref name="governedTool"/> is not governed, or the token is malformed.</exception>
    public static TDelegate WithResumeToken<TDelegate>(this TDelegate governedTool, string resumeToken)
        where TDelegate : Delegate
    {
        ArgumentNullException.ThrowIfNull(governedTool);
        if (!GovernedDelegate.TryGet(governedTool, out var governed))
        {
            throw new ArgumentException("The delegate is not a governed tool (use agent.Govern(...) first).", nameof(governedTool));
        }

        return (TDelegate)governed.WithResumeToken(resumeToken).Wrapper;
    }

    /// <summary>The definition the gateway pins for a governed delegate, or null if it is not one.</summary>
    /// <param name="tool">A delegate returned by <see cref="Govern{TDelegate}"/>.</param>
    public static TapPassToolDefinition? GetToolDefinition(this Delegate tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return GovernedDelegate.TryGet(tool, out var governed) ? governed.Definition : null;
    }

    private static ITapPassToolGovernor Governor(ITapPassAgent agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        return agent as ITapPassToolGovernor
            ?? throw new ArgumentException($"{agent.GetType().Name} does not implement ITapPassToolGovernor, so it cannot govern tools.", nameof(agent));
    }
}
