using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TapPass.Governance.Detection;

namespace TapPass.Server.Cli;

/// <summary>
/// The <c>scan</c> verb: reads JSON Lines <c>{"id", "text"}</c> and writes one line per input,
/// <c>{"id", "detections": [{"type", "start", "length"}], "classification", "injection_score", "injection"}</c>
/// (offsets in UTF-16 code units; a secret's type is <c>SECRET:&lt;kind&gt;</c> when the detector names a kind;
/// the injection fields are present only when an injection detector is configured).
/// A line that cannot be scanned yields <c>{"id": &lt;id or null&gt;, "error": "…"}</c> and the run goes on.
/// Memory stays bounded: one line at a time, lines longer than <see cref="MaxLineChars"/> are rejected.
/// </summary>
internal sealed class ScanCommand
{
    /// <summary>Longest input line accepted, in characters.</summary>
    public const int MaxLineChars = 8 * 1024 * 1024;

    private readonly ContentScanner _scanner;
    private readonly int _maxLineChars;

    public ScanCommand(ContentScanner scanner, int maxLineChars = MaxLineChars)
    {
        ArgumentNullException.ThrowIfNull(scanner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLineChars);
        _scanner = scanner;
        _maxLineChars = maxLineChars;
    }

    /// <summary>Runs the verb on the process's standard input and output.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        if (args.Length > 1)
        {
            await Console.Error.WriteLineAsync("usage: TapPass.Server scan < input.jsonl > output.jsonl").ConfigureAwait(false);
            return 2;
        }

        ScanCommand command;
        try
        {
            command = new ScanCommand(DetectionDefaults.CreateScanner());
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync("scan: " + ex.Message).ConfigureAwait(false);
            return 1;
        }

        using var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        await using var output = Console.OpenStandardOutput();
        await command.RunAsync(input, output, cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Scans every line of <paramref name="input"/> and writes the results to <paramref name="output"/>.</summary>
    /// <returns>The number of lines processed.</returns>
    public async Task<long> RunAsync(TextReader input, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var reader = new BoundedLineReader(input, _maxLineChars);
        var buffer = new ArrayBufferWriter<byte>(4096);
        long lines = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            BoundedLineReader.Line line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.EndOfInput)
            {
                break;
            }

            if (line.Text is { Length: 0 } || (line.Text is not null && string.IsNullOrWhiteSpace(line.Text)))
            {
                continue;
            }

            lines++;
            buffer.ResetWrittenCount();
            WriteResult(line, buffer);
            buffer.Write("\n"u8);
            await output.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            if (!reader.HasBufferedInput)
            {
                // About to wait for more input: let the consumer see what is done so far.
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return lines;
    }

    private void WriteResult(BoundedLineReader.Line line, ArrayBufferWriter<byte> buffer)
    {
        if (line.Text is null)
        {
            WriteError(buffer, null, $"line longer than {_maxLineChars} characters");
            return;
        }

        ScanInput? input;
        try
        {
            input = JsonSerializer.Deserialize(line.Text, ScanJsonContext.Default.ScanInput);
        }
        catch (JsonException ex)
        {
            WriteError(buffer, null, "invalid JSON" + (ex.LineNumber is null ? "" : $" at position {ex.BytePositionInLine}"));
            return;
        }

        if (input is null)
        {
            WriteError(buffer, null, "expected a JSON object");
            return;
        }

        JsonElement? id = input.Id.ValueKind is JsonValueKind.String or JsonValueKind.Number ? input.Id : null;
        if (id is null && input.Id.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
        {
            WriteError(buffer, null, "\"id\" must be a string or a number");
            return;
        }

        if (input.Text is null)
        {
            WriteError(buffer, id, "missing \"text\" (a string)");
            return;
        }

        ScanResult result;
        try
        {
            result = _scanner.Scan(input.Text);
        }
        catch (ArgumentOutOfRangeException)
        {
            WriteError(buffer, id, "text too long");
            return;
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            WriteError(buffer, id, "scan timed out");
            return;
        }
#pragma warning disable CA1031 // A failing line must never stop the run; the error names the type only.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            WriteError(buffer, id, "scan failed: " + ex.GetType().Name);
            return;
        }

        var detections = new ScanDetection[result.Findings.Count];
        for (int i = 0; i < detections.Length; i++)
        {
            Finding f = result.Findings[i];
            string type = f.Type == EntityTypes.Secret && !string.IsNullOrEmpty(f.Kind) ? EntityTypes.Secret + ":" + f.Kind : f.Type;
            detections[i] = new ScanDetection(type, f.Start, f.Length);
        }

        var output = new ScanOutput
        {
            Id = id,
            Detections = detections,
            Classification = result.Classification.ToString().ToUpperInvariant(),
            InjectionScore = _scanner.HasInjectionDetector ? Math.Round(result.Injection.Score, 4) : null,
            Injection = _scanner.HasInjectionDetector ? result.IsInjection : null,
        };
        using var writer = new Utf8JsonWriter(buffer);
        JsonSerializer.Serialize(writer, output, ScanJsonContext.Default.ScanOutput);
    }

    private static void WriteError(ArrayBufferWriter<byte> buffer, JsonElement? id, string message)
    {
        using var writer = new Utf8JsonWriter(buffer);
        JsonSerializer.Serialize(writer, new ScanError { Id = id, Error = message }, ScanJsonContext.Default.ScanError);
    }
}

/// <summary>One input line of the scan verb.</summary>
internal sealed class ScanInput
{
    public JsonElement Id { get; set; }

    public string? Text { get; set; }
}

/// <summary>One detection on the wire.</summary>
internal sealed record ScanDetection(string Type, int Start, int Length);

/// <summary>One output line of the scan verb.</summary>
internal sealed class ScanOutput
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public JsonElement? Id { get; set; }

    public required IReadOnlyList<ScanDetection> Detections { get; init; }

    public required string Classification { get; init; }

    public double? InjectionScore { get; init; }

    public bool? Injection { get; init; }
}

/// <summary>The output line for an input that could not be scanned.</summary>
internal sealed class ScanError
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public JsonElement? Id { get; set; }

    public required string Error { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 16)]
[JsonSerializable(typeof(ScanInput))]
[JsonSerializable(typeof(ScanOutput))]
[JsonSerializable(typeof(ScanError))]
internal sealed partial class ScanJsonContext : JsonSerializerContext;
