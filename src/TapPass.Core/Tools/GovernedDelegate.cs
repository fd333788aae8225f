using System.Buffers;
using System.ComponentModel;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace TapPass;

/// <summary>
/// A governed delegate: a compiled wrapper of the tool's own delegate type whose every call is governed, run and
/// reported by a <see cref="ToolRuntime"/>. Wrappers are found again from the delegate through a weak table.
/// </summary>
internal sealed class GovernedDelegate
{
    private const int MaxParameters = 16;
    private static readonly ConditionalWeakTable<Delegate, GovernedDelegate> Registry = new();

    private readonly DelegateShape _shape;
    private readonly ToolRuntime _runtime;

    private GovernedDelegate(DelegateShape shape, ToolRuntime runtime)
    {
        _shape = shape;
        _runtime = runtime;
        Wrapper = shape.Compile(this);
        Registry.AddOrUpdate(Wrapper, this);
    }

    /// <summary>The governed delegate (of the tool's delegate type).</summary>
    public Delegate Wrapper { get; }

    public TapPassToolDefinition Definition => _runtime.Definition;

    /// <summary>Wraps <paramref name="tool"/>.</summary>
    public static GovernedDelegate Create(ITapPassToolGovernor governor, Delegate tool, TapPassToolOptions? options)
    {
        if (Registry.TryGetValue(tool, out _))
        {
            throw new ArgumentException("This delegate is already governed; govern the original tool once.", nameof(tool));
        }

        var settings = ToolSettings.From(options);
        var shape = DelegateShape.Analyze(tool, settings.SerializerOptions);
        var name = options?.Name ?? DeriveName(tool.Method, options?.SnakeCaseName ?? true);
        if (!TapPassToolDefinition.IsValidName(name))
        {
            throw new ArgumentException($"The tool name must be 1-{TapPassToolDefinition.MaxNameLength} characters of [A-Za-z0-9_.:/-]; set TapPassToolOptions.Name.", nameof(options));
        }

        var description = options?.Description ?? tool.Method.GetCustomAttribute<DescriptionAttribute>()?.Description;
        var definition = new TapPassToolDefinition(name, description, shape.Schema);
        return new GovernedDelegate(shape, new ToolRuntime(governor, definition, settings));
    }

    /// <summary>Finds the wrapper behind a governed delegate.</summary>
    public static bool TryGet(Delegate tool, out GovernedDelegate governed) => Registry.TryGetValue(tool, out governed!);

    /// <summary>A wrapper of the same tool that resumes an approved call.</summary>
    public GovernedDelegate WithResumeToken(string resumeToken) => new(_shape, _runtime.WithResumeToken(resumeToken, nameof(resumeToken)));

    /// <summary>
    /// The tool name a method gives: a local function's own name, an <c>Async</c> suffix dropped and snake_case when
    /// asked. Lambdas have no usable name.
    /// </summary>
    internal static string DeriveName(MethodInfo method, bool snakeCase)
    {
        var name = method.Name;
        if (name.Contains('<', StringComparison.Ordinal))
        {
            // A local function compiles to "<Outer>g__Name|0_1"; a lambda to "<Outer>b__0_1".
            var marker = name.IndexOf(">g__", StringComparison.Ordinal);
            var end = marker < 0 ? -1 : name.IndexOf('|', marker + 4);
            if (end <= marker + 4)
            {
                throw new ArgumentException("A lambda has no usable tool name: set TapPassToolOptions.Name.", nameof(method));
            }

            name = name[(marker + 4)..end];
        }

        if (!snakeCase)
        {
            return name;
        }

        if (name.Length > 5 && name.EndsWith("Async", StringComparison.Ordinal) && IsAwaitable(method.ReturnType))
        {
            name = name[..^5];
        }

        return JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
    }

    // ---- entry points called by the compiled wrapper (one per return shape) ------------------------------------

    public TResult InvokeSync<TResult>(object?[] args) => _runtime.Invoke(
        Serialize(args), args, m => Bind(m, args), a => (TResult)_shape.Invoker(a)!, r => Measure(r, typeof(TResult)), _shape.Token(args));

    public void InvokeVoid(object?[] args) => _runtime.Invoke<object?[], object?>(
        Serialize(args),
        args,
        m => Bind(m, args),
        a =>
        {
            _shape.Invoker(a);
            return null;
        },
        static _ => null,
        _shape.Token(args));

    public async Task<TResult> InvokeTaskOf<TResult>(object?[] args) => await _runtime.InvokeAsync(
        Serialize(args), args, m => Bind(m, args), a => new ValueTask<TResult>((Task<TResult>)_shape.Invoker(a)!), r => Measure(r, typeof(TResult)), _shape.Token(args)).ConfigureAwait(false);

    public async ValueTask<TResult> InvokeValueTaskOf<TResult>(object?[] args) => await _runtime.InvokeAsync(
        Serialize(args), args, m => Bind(m, args), a => (ValueTask<TResult>)_shape.Invoker(a)!, r => Measure(r, typeof(TResult)), _shape.Token(args)).ConfigureAwait(false);

    public async Task InvokeTask(object?[] args) => await _runtime.InvokeAsync<object?[], object?>(
        Serialize(args),
        args,
        m => Bind(m, args),
        async a =>
        {
            await ((Task)_shape.Invoker(a)!).ConfigureAwait(false);
            return null;
        },
        static _ => null,
        _shape.Token(args)).ConfigureAwait(false);

    public async ValueTask InvokeValueTask(object?[] args) => await _runtime.InvokeAsync<object?[], object?>(
        Serialize(args),
        args,
        m => Bind(m, args),
        async a =>
        {
            await ((ValueTask)_shape.Invoker(a)!).ConfigureAwait(false);
            return null;
        },
        static _ => null,
        _shape.Token(args)).ConfigureAwait(false);

    private long? Measure(object? result, Type declared) => ToolResults.SizeOf(result, declared, _runtime.Settings.SerializerOptions);

    /// <summary>The governed arguments as a JSON object, by parameter name.</summary>
    private JsonElement Serialize(object?[] args)
    {
        var options = _runtime.Settings.SerializerOptions;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var i in _shape.ArgumentIndices)
            {
                writer.WritePropertyName(_shape.Names[i]);
                try
                {
                    JsonSerializer.Serialize(writer, args[i], _shape.Types[i], options);
                }
                catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
                {
                    throw new ArgumentException($"Argument '{_shape.Names[i]}' of tool '{Definition.Name}' cannot be serialised to JSON for governance; the tool was not run.", ex);
                }
            }

            writer.WriteEndObject();
        }

        _runtime.CheckArgumentSize(buffer.WrittenCount);
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// Binds the gateway's arguments to the parameters: every governed parameter exactly once, no unknown name, each
    /// value deserialised to its parameter's type, null only where the parameter accepts it.
    /// </summary>
    private object?[] Bind(JsonElement modified, object?[] original)
    {
        var bound = (object?[])original.Clone();
        var seen = new bool[bound.Length];
        var options = _runtime.Settings.SerializerOptions;
        foreach (var property in modified.EnumerateObject())
        {
            var index = _shape.IndexOf(property.Name);
            if (index < 0)
            {
                throw new ToolArgumentBindingException($"unknown parameter '{Printable(property.Name)}'");
            }

            if (seen[index])
            {
                throw new ToolArgumentBindingException($"parameter '{_shape.Names[index]}' given twice");
            }

            seen[index] = true;
            object? value;
            try
            {
                value = property.Value.Deserialize(_shape.Types[index], options);
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
            {
                throw new ToolArgumentBindingException($"parameter '{_shape.Names[index]}' does not take the value given ({_shape.Types[index].Name})", ex);
            }

            if (value is null && !_shape.AcceptsNull[index])
            {
                throw new ToolArgumentBindingException($"parameter '{_shape.Names[index]}' does not accept null");
            }

            bound[index] = value;
        }

        foreach (var i in _shape.ArgumentIndices)
        {
            if (!seen[i])
            {
                throw new ToolArgumentBindingException($"parameter '{_shape.Names[i]}' is missing");
            }
        }

        return bound;
    }

    private static string Printable(string value)
    {
        var cut = value.Length > 64 ? value[..64] : value;
        return new string(cut.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
    }

    private static bool IsAwaitable(Type type) =>
        type == typeof(Task) || type == typeof(ValueTask) ||
        (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>)));

    /// <summary>The parameters and return shape of a tool delegate, its JSON schema and a compiled invoker.</summary>
    private sealed class DelegateShape
    {
        private DelegateShape(Type delegateType, ParameterInfo[] parameters, string[] names, int[] argumentIndices, bool[] acceptsNull, int tokenIndex, Type returnType, JsonElement schema, Func<object?[], object?> invoker)
        {
            DelegateType = delegateType;
            Parameters = parameters;
            Types = parameters.Select(p => p.ParameterType).ToArray();
            Names = names;
            ArgumentIndices = argumentIndices;
            AcceptsNull = acceptsNull;
            TokenIndex = tokenIndex;
            ReturnType = returnType;
            Schema = schema;
            Invoker = invoker;
        }

        public Type DelegateType { get; }

        public ParameterInfo[] Parameters { get; }

        public Type[] Types { get; }

        public string[] Names { get; }

        /// <summary>Indices of the parameters sent to the gateway (all but cancellation tokens and service parameters).</summary>
        public int[] ArgumentIndices { get; }

        public bool[] AcceptsNull { get; }

        public int TokenIndex { get; }

        public Type ReturnType { get; }

        public JsonElement Schema { get; }

        /// <summary>Calls the original delegate with an argument array.</summary>
        public Func<object?[], object?> Invoker { get; }

        public static DelegateShape Analyze(Delegate tool, JsonSerializerOptions serializerOptions)
        {
            if (tool.HasSingleTarget is false)
            {
                throw new ArgumentException("A multicast delegate cannot be a tool: govern each method separately.", nameof(tool));
            }

            var method = tool.Method;
            if (!method.IsStatic && tool.Target is null)
            {
                throw new ArgumentException("An open instance delegate cannot be a tool.", nameof(tool));
            }

            var delegateType = tool.GetType();
            var invoke = delegateType.GetMethod("Invoke")!;
            var parameters = invoke.GetParameters();
            if (parameters.Length > MaxParameters)
            {
                throw new ArgumentException($"A tool takes at most {MaxParameters} parameters.", nameof(tool));
            }

            foreach (var p in parameters)
            {
                if (p.ParameterType.IsByRef || p.ParameterType.IsPointer || p.ParameterType.IsByRefLike || p.ParameterType.ContainsGenericParameters)
                {
                    throw new ArgumentException($"Tool parameter '{p.Name}' must be passed by value (no ref, out, in, pointers or spans).", nameof(tool));
                }
            }

            if (invoke.ReturnType.IsByRef || invoke.ReturnType.IsPointer || invoke.ReturnType.IsByRefLike)
            {
                throw new ArgumentException("A tool must return a value, void, or a task.", nameof(tool));
            }

            // A static method closed over its first argument has one parameter more than the delegate.
            var methodParameters = method.GetParameters();
            var offset = methodParameters.Length - parameters.Length;
            if (offset is not (0 or 1))
            {
                throw new ArgumentException("The delegate's method does not match its signature.", nameof(tool));
            }

            var names = new string[parameters.Length];
            var acceptsNull = new bool[parameters.Length];
            var arguments = new List<int>(parameters.Length);
            var tokenIndex = -1;
            var nullability = new NullabilityInfoContext();
            for (var i = 0; i < parameters.Length; i++)
            {
                var source = methodParameters[i + offset];
                names[i] = string.IsNullOrEmpty(source.Name)
                    ? throw new ArgumentException("Every tool parameter needs a name.", nameof(tool))
                    : source.Name;
                var type = parameters[i].ParameterType;
                acceptsNull[i] = !type.IsValueType
                    ? nullability.Create(source).WriteState != NullabilityState.NotNull
                    : Nullable.GetUnderlyingType(type) is not null;
                if (IsContextParameter(type))
                {
                    if (type == typeof(CancellationToken) && tokenIndex < 0)
                    {
                        tokenIndex = i;
                    }

                    continue;
                }

                arguments.Add(i);
            }

            if (arguments.Select(i => names[i]).Distinct(StringComparer.Ordinal).Count() != arguments.Count)
            {
                throw new ArgumentException("Tool parameter names must be distinct.", nameof(tool));
            }

            var schema = AIJsonUtilities.CreateFunctionJsonSchema(
                method,
                title: string.Empty, // empty, not null: null falls back to the method's name and description
                description: string.Empty,
                serializerOptions: serializerOptions,
                inferenceOptions: new AIJsonSchemaCreateOptions
                {
                    IncludeParameter = p => p.Position >= offset && !IsContextParameter(p.ParameterType),
                });
            CheckSchema(schema, arguments.Select(i => names[i]));

            return new DelegateShape(delegateType, parameters, names, arguments.ToArray(), acceptsNull, tokenIndex, invoke.ReturnType, schema, CompileInvoker(tool, parameters, invoke.ReturnType));
        }

        public int IndexOf(string name)
        {
            foreach (var i in ArgumentIndices)
            {
                if (string.Equals(Names[i], name, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return -1;
        }

        public CancellationToken Token(object?[] args) => TokenIndex >= 0 && args[TokenIndex] is CancellationToken token ? token : CancellationToken.None;

        /// <summary>Compiles <c>(p1, …, pn) =&gt; governed.InvokeX(new object[] { p1, …, pn })</c> of the tool's delegate type.</summary>
        public Delegate Compile(GovernedDelegate governed)
        {
            var parameters = Parameters.Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
            var array = Expression.NewArrayInit(typeof(object), parameters.Select(p => Expression.Convert(p, typeof(object))));
            var entry = EntryPoint(ReturnType);
            var body = Expression.Call(Expression.Constant(governed), entry, array);
            return Expression.Lambda(DelegateType, body, parameters).Compile();
        }

        private static MethodInfo EntryPoint(Type returnType)
        {
            static MethodInfo Get(string name) => typeof(GovernedDelegate).GetMethod(name, BindingFlags.Public | BindingFlags.Instance)!;

            if (returnType == typeof(void))
            {
                return Get(nameof(InvokeVoid));
            }

            if (returnType == typeof(Task))
            {
                return Get(nameof(InvokeTask));
            }

            if (returnType == typeof(ValueTask))
            {
                return Get(nameof(InvokeValueTask));
            }

            if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
            {
                return Get(nameof(InvokeTaskOf)).MakeGenericMethod(returnType.GetGenericArguments()[0]);
            }

            if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(ValueTask<>))
            {
                return Get(nameof(InvokeValueTaskOf)).MakeGenericMethod(returnType.GetGenericArguments()[0]);
            }

            return Get(nameof(InvokeSync)).MakeGenericMethod(returnType);
        }

        private static Func<object?[], object?> CompileInvoker(Delegate tool, ParameterInfo[] parameters, Type returnType)
        {
            var args = Expression.Parameter(typeof(object[]), "args");
            var call = Expression.Invoke(
                Expression.Constant(tool, tool.GetType()),
                parameters.Select((p, i) => Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), p.ParameterType)));
            Expression body = returnType == typeof(void)
                ? Expression.Block(call, Expression.Constant(null, typeof(object)))
                : Expression.Convert(call, typeof(object));
            return Expression.Lambda<Func<object?[], object?>>(body, args).Compile();
        }

        private static bool IsContextParameter(Type type) =>
            type == typeof(CancellationToken) || type == typeof(IServiceProvider) || type == typeof(AIFunctionArguments);

        private static void CheckSchema(JsonElement schema, IEnumerable<string> names)
        {
            var expected = names.ToHashSet(StringComparer.Ordinal);
            var actual = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
                ? properties.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal)
                : [];
            if (!expected.SetEquals(actual))
            {
                throw new ArgumentException("The tool's parameters could not be described as a JSON schema.", nameof(schema));
            }
        }
    }
}
