using System.Text;
using BenchmarkDotNet.Attributes;
using TapPass.Governance.Detection;

namespace TapPass.Benchmarks;

/// <summary>
/// Cost of the secret and injection detectors on a clean 4 KB prompt (the common case: nothing to find,
/// but ordinary words such as "key", "token", "password policy", "ignore" and URLs occur), and on the same
/// prompt with a few credentials in it.
/// </summary>
[MemoryDiagnoser]
public class SecretBenchmarks
{
    private const string Paragraphs = """
        Hi team, here is the summary of this week's platform review. The key takeaway is that the migration of the
        billing service to the new cluster went well: latency dropped by 18% and the error budget is back in the green.
        We still need to update the runbook for the on-call rotation, because the old steps refer to servers that no
        longer exist. Please ignore the draft diagram in the wiki; the final version is attached to the ticket.

        Security asked us to review the password policy for the admin console. The proposal is to require passkeys for
        administrators and to rotate service tokens every ninety days. Nobody should paste credentials into chat, and the
        secrets manager remains the only place where they live. The audit found no leaked keys this quarter.

        On the product side, the customer feedback about the new dashboard is mostly positive. Several users asked
        for an export to CSV and for a dark theme. The support team would like a shortcut to open the order history from
        the search results. Marketing wants to run an A/B test on the onboarding emails in March, see
        https://wiki.example.com/growth/onboarding-test for the plan and the success metrics.

        For the data pipeline, the nightly job that aggregates usage events now finishes in 42 minutes instead of 95.
        The bottleneck was a missing index on the events table. We also switched the authentication of the job to
        workload identity, so the connection no longer depends on a static secret. Next sprint we will add retries with
        exponential backoff and alerting when the job runs longer than an hour.

        Could you draft a short update for the all-hands meeting that covers these points in plain language, with one
        sentence per topic and a friendly closing line? Keep it under two hundred words and avoid internal jargon.

        """;

    private readonly SecretDetector _secrets = new();
    private readonly InjectionDetector _injection = new();
    private readonly List<Finding> _results = [];
    private string _clean = "";
    private string _withSecrets = "";

    /// <summary>Builds the 4 KB inputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var sb = new StringBuilder(4096);
        while (sb.Length < 4096) sb.Append(Paragraphs);
        _clean = sb.ToString(0, 4096);

        var npm = "npm_" + new string([.. Enumerable.Range(0, 36).Select(i => (char)('a' + (i * 7 % 26)))]).Replace('c', '7');
        var dsn = "postgresql://report:Kermis3499!@db1.internal:5432/users";
        _withSecrets = _clean[..3800] + $"\nNPM_TOKEN={npm}\nDATABASE_URL={dsn}\npassword = \"Summer2024!\"\n";
    }

    /// <summary>SecretDetector on a clean 4 KB prompt.</summary>
    [Benchmark(Baseline = true)]
    public int Secrets_Clean4KB()
    {
        _results.Clear();
        _secrets.Detect(_clean, _results);
        return _results.Count;
    }

    /// <summary>SecretDetector on a 4 KB prompt with three credentials.</summary>
    [Benchmark]
    public int Secrets_4KBWithSecrets()
    {
        _results.Clear();
        _secrets.Detect(_withSecrets, _results);
        return _results.Count;
    }

    /// <summary>InjectionDetector on a clean 4 KB prompt.</summary>
    [Benchmark]
    public double Injection_Clean4KB() => _injection.Score(_clean).Score;
}
