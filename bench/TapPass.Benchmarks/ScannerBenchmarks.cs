using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TapPass.Governance.Detection;

namespace TapPass.Benchmarks;

/// <summary>
/// Throughput of the detection layer (<see cref="DetectionDefaults.CreateScanner"/>: normalise, detect,
/// classify) on ~256 KB texts of four kinds, and of the streaming masker on prose in 16-character chunks.
/// The MB/s column is UTF-8 megabytes (10^6 bytes) of input per second.
/// Run: dotnet run -c Release --project bench/TapPass.Benchmarks -- --filter *ScannerBenchmarks* --job short
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class ScannerBenchmarks
{
    private ContentScanner _scanner = null!;
    private string _text = null!;

    /// <summary>The kind of text scanned.</summary>
    [Params("prose", "code", "json", "pii_dense")]
    public string Corpus { get; set; } = "prose";

    [GlobalSetup]
    public void Setup()
    {
        _scanner = DetectionDefaults.CreateScanner();
        _text = BenchTexts.Get(Corpus);
    }

    [Benchmark]
    public int Scan() => _scanner.Scan(_text).Findings.Count;

    [Benchmark]
    public int Stream()
    {
        var masker = new StreamingMasker(_scanner);
        int written = 0;
        for (int i = 0; i < _text.Length; i += 16)
        {
            written += masker.Write(_text.Substring(i, Math.Min(16, _text.Length - i))).Text.Length;
        }

        return written + masker.Flush().Text.Length;
    }
}

/// <summary>
/// Latency of the full scanner and of its two costliest detectors on a short chat prompt
/// (<see cref="BenchTexts.ShortPrompt"/>, ~120 characters): the per-request cost at low concurrency.
/// Run: dotnet run -c Release --project bench/TapPass.Benchmarks -- --filter *ShortPromptScannerBenchmarks* --job short
/// </summary>
[MemoryDiagnoser]
public class ShortPromptScannerBenchmarks
{
    private readonly ContentScanner _scanner = DetectionDefaults.CreateScanner();
    private readonly InjectionDetector _injection = new();
    private readonly ExfiltrationDetector _exfiltration = new();

    [Benchmark]
    public int Scan() => _scanner.Scan(BenchTexts.ShortPrompt).Findings.Count;

    [Benchmark]
    public double Injection() => _injection.Score(BenchTexts.ShortPrompt).Score;

    [Benchmark]
    public int Exfiltration() => _exfiltration.Detect(BenchTexts.ShortPrompt).Count;
}

/// <summary>Deterministic benchmark inputs.</summary>
internal static class BenchTexts
{
    public const int TargetChars = 256 * 1024;

    /// <summary>A typical short chat prompt (~120 characters, one e-mail address): the per-request latency case.</summary>
    public const string ShortPrompt =
        "Please summarise the attached ticket from ava.dumont@ostara.be and draft a short, polite reply for the support team.";

    private static readonly Dictionary<string, string> s_cache = [];

    public static string Get(string corpus)
    {
        lock (s_cache)
        {
            if (!s_cache.TryGetValue(corpus, out string? text))
            {
                text = corpus switch
                {
                    "prose" => Prose(),
                    "code" => Repeat(CodeSample),
                    "json" => Json(),
                    "pii_dense" => PiiDense(),
                    _ => throw new ArgumentOutOfRangeException(nameof(corpus)),
                };
                s_cache[corpus] = text;
            }

            return text;
        }
    }

    public static int Utf8Bytes(string corpus) => Encoding.UTF8.GetByteCount(Get(corpus));

    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
        "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you",
        "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will",
        "would", "who", "so", "no", "governance", "agent", "model", "request", "customer", "policy", "answer",
        "summary", "report", "meeting", "quarter", "team", "project", "design", "review", "document", "system",
    ];

    private static string Prose()
    {
        var rng = new Random(1);
        var sb = new StringBuilder(TargetChars + 256);
        while (sb.Length < TargetChars)
        {
            int n = rng.Next(8, 22);
            for (int i = 0; i < n; i++)
            {
                string w = Words[rng.Next(Words.Length)];
                sb.Append(i == 0 ? char.ToUpperInvariant(w[0]) + w[1..] : w);
                if (i == n / 2 && rng.Next(4) == 0)
                {
                    sb.Append(rng.Next(3) == 0 ? " in 2024" : ",");
                }

                sb.Append(i == n - 1 ? ". " : " ");
            }

            if (rng.Next(6) == 0)
            {
                sb.Append("\n\n");
            }
        }

        return sb.ToString();
    }

    private const string CodeSample = """
        public sealed class OrderService(IOrderRepository repository, ILogger<OrderService> logger)
        {
            private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

            public async Task<Order?> GetAsync(int id, CancellationToken cancellationToken)
            {
                if (id <= 0) throw new ArgumentOutOfRangeException(nameof(id));
                var order = await repository.FindAsync(id, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < order.Lines.Count; i++) { total += order.Lines[i].Price * 1.21m; }
                std::map<int, std::string> names; // C++ interop note: a::b
                return order is { Status: OrderStatus.Open } ? order : null; // version 1.2.3.4
            }
        }

        """;

    private static string Repeat(string sample)
    {
        var sb = new StringBuilder(TargetChars + sample.Length);
        while (sb.Length < TargetChars)
        {
            sb.Append(sample);
        }

        return sb.ToString();
    }

    private static string Json()
    {
        var rng = new Random(2);
        var sb = new StringBuilder(TargetChars + 512);
        sb.Append('[');
        while (sb.Length < TargetChars)
        {
            sb.Append("{\"id\":").Append(rng.Next(1, 1_000_000))
              .Append(",\"sku\":\"SKU-").Append(rng.Next(10000, 99999))
              .Append("\",\"name\":\"Widget ").Append(Words[rng.Next(Words.Length)])
              .Append("\",\"price\":").Append(rng.Next(1, 999)).Append('.').Append(rng.Next(10, 99))
              .Append(",\"created_at\":\"2024-0").Append(rng.Next(1, 9)).Append("-1").Append(rng.Next(0, 9))
              .Append("T10:2").Append(rng.Next(0, 9)).Append(":00Z\",\"tags\":[\"a\",\"b\"],\"active\":true},\n");
        }

        sb.Append(']');
        return sb.ToString();
    }

    private static string PiiDense()
    {
        var rng = new Random(3);
        var sb = new StringBuilder(TargetChars + 512);
        string[] lines =
        [
            "Ticket CASE-{0} | Requester: Ava Dumont <ava.dumont{0}@ostara.be> | Phone: +32 470 12 34 {1:00}\n",
            "Card 4111 1111 1111 1111 blocked after three attempts from IP 10.0.{2}.{1}\n",
            "Refund to BE71 0961 2345 6769, SSN 856-60-8919, call (737) 607-5253.\n",
            "Zugriff von 2001:db8:85a3::8a2e:370:7334 blockiert, Benutzer noah{0}@posteo.de informiert.\n",
            "Payment details: IBAN NL91 ABNA 0417 1643 00, card 5555-5555-5555-4444, mail invoices@gmail.com\n",
        ];
        while (sb.Length < TargetChars)
        {
            sb.AppendFormat(System.Globalization.CultureInfo.InvariantCulture, lines[rng.Next(lines.Length)], rng.Next(1000, 99999), rng.Next(0, 99), rng.Next(0, 255));
        }

        return sb.ToString();
    }
}

/// <summary>Adds an MB/s column computed from the mean time and the corpus size.</summary>
public sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig() => AddColumn(new ThroughputColumn());

    private sealed class ThroughputColumn : IColumn
    {
        public string Id => "MBps";

        public string ColumnName => "MB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "UTF-8 input megabytes (10^6 bytes) per second";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            object? corpus = benchmarkCase.Parameters["Corpus"];
            if (report?.ResultStatistics is null || corpus is not string name)
            {
                return "-";
            }

            double seconds = report.ResultStatistics.Mean / 1e9;
            return (BenchTexts.Utf8Bytes(name) / 1e6 / seconds).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
