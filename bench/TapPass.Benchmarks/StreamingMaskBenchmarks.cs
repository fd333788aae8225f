using BenchmarkDotNet.Attributes;
using TapPass.Governance.Detection;
using TapPass.Governance.Inspection;

namespace TapPass.Benchmarks;

/// <summary>
/// SSE output masking, per chunk: the engine's stream masker (<see cref="ScannerTextInspector.CreateStreamMasker"/>,
/// PII and secrets masked) fed a 64 KB answer in chunks of 8, 64 or 512 characters, as the gateway does for
/// each <c>data:</c> event of a streamed answer. Times and allocations are per chunk (OperationsPerInvoke), so the
/// cost a chunk adds to the stream reads directly; <c>prose</c> has an e-mail address or phone number every ~1 KB,
/// <c>pii_dense</c> has several per line.
/// Run: <c>dotnet run -c Release --project bench/TapPass.Benchmarks -- --filter *StreamingMaskBenchmarks* --job short</c>
/// </summary>
[MemoryDiagnoser]
public class StreamingMaskBenchmarks
{
    private const int AnswerChars = 64 * 1024;

    private ScannerTextInspector _inspector = null!;
    private string[] _chunks8 = null!;
    private string[] _chunks64 = null!;
    private string[] _chunks512 = null!;

    /// <summary>The answer's text.</summary>
    [Params("prose", "pii_dense")]
    public string Corpus { get; set; } = "prose";

    [GlobalSetup]
    public void Setup()
    {
        _inspector = new ScannerTextInspector(DetectionDefaults.CreateScanner());
        var text = Corpus == "prose" ? PromptTexts.Prose(AnswerChars) : BenchTexts.Get("pii_dense")[..AnswerChars];
        _chunks8 = Split(text, 8);
        _chunks64 = Split(text, 64);
        _chunks512 = Split(text, 512);
    }

    /// <summary>One 8-character chunk (about a word and a half) of masking.</summary>
    [Benchmark(OperationsPerInvoke = AnswerChars / 8)]
    public int PushChunk_8() => Run(_chunks8);

    /// <summary>One 64-character chunk of masking.</summary>
    [Benchmark(OperationsPerInvoke = AnswerChars / 64)]
    public int PushChunk_64() => Run(_chunks64);

    /// <summary>One 512-character chunk of masking.</summary>
    [Benchmark(OperationsPerInvoke = AnswerChars / 512)]
    public int PushChunk_512() => Run(_chunks512);

    private static string[] Split(string text, int size)
    {
        var chunks = new string[text.Length / size];
        for (var i = 0; i < chunks.Length; i++)
        {
            chunks[i] = text.Substring(i * size, size);
        }

        return chunks;
    }

    private int Run(string[] chunks)
    {
        var masker = _inspector.CreateStreamMasker(new StreamMaskPolicy(EntityAction.Mask, EntityAction.Mask));
        var sent = 0;
        foreach (var chunk in chunks)
        {
            sent += masker.Push(chunk).SafeText.Length;
        }

        return sent + masker.Flush().SafeText.Length;
    }
}
