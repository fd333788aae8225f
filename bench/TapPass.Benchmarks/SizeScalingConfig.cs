using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace TapPass.Benchmarks;

/// <summary>
/// Columns for benchmarks parameterised by input size (a parameter named <c>Kb</c>, kilobytes of UTF-8 input):
/// P50 and P99 of the per-operation time, time per input KB and allocated bytes per input KB (both constant when cost
/// grows linearly), and the ratio of allocated bytes to input bytes, which must stay at most <see cref="MaxAllocRatio"/>.
/// </summary>
public sealed class SizeScalingConfig : ManualConfig
{
    /// <summary>Largest allowed allocated bytes per input byte.</summary>
    public const double MaxAllocRatio = 100;

    public SizeScalingConfig()
    {
        AddColumn(StatisticColumn.P50);
        AddColumn(new PercentileColumn(99));
        AddColumn(new PerKbColumn(time: true));
        AddColumn(new PerKbColumn(time: false));
        AddColumn(new AllocRatioColumn());
    }

    internal static int InputBytes(BenchmarkCase benchmarkCase) =>
        (int)(Kb(benchmarkCase) * 1024);

    private static double Kb(BenchmarkCase benchmarkCase) => benchmarkCase.Parameters["Kb"] switch
    {
        double d => d,
        int i => i,
        _ => 0,
    };

    /// <summary>A percentile of the measured per-operation times (BenchmarkDotNet has no P99 column of its own).</summary>
    private sealed class PercentileColumn(int percentile) : IColumn
    {
        public string Id => "P" + percentile.ToString(CultureInfo.InvariantCulture);
        public string ColumnName => "P" + percentile.ToString(CultureInfo.InvariantCulture);
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Statistics;
        public int PriorityInCategory => 10;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Time;
        public string Legend => $"Percentile {percentile} of the per-operation time";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            return stats is null ? "-" : FormatNs(stats.Percentiles.Percentile(percentile));
        }

        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }

    /// <summary>Mean time (µs) or allocated bytes per KB of input.</summary>
    private sealed class PerKbColumn(bool time) : IColumn
    {
        public string Id => time ? "TimePerKb" : "AllocPerKb";
        public string ColumnName => time ? "µs/KB" : "Alloc B/KB";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => time ? 0 : 1;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => time ? "Mean microseconds per KB of input" : "Allocated bytes per KB of input";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            var kb = Kb(benchmarkCase);
            if (report?.ResultStatistics is null || kb == 0)
            {
                return "-";
            }

            if (time)
            {
                return (report.ResultStatistics.Mean / 1000 / kb).ToString("N2", CultureInfo.InvariantCulture);
            }

            var bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
            return bytes is null ? "-" : ((double)bytes.Value / kb).ToString("N0", CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }

    /// <summary>Allocated bytes / input bytes, flagged when above <see cref="MaxAllocRatio"/>.</summary>
    private sealed class AllocRatioColumn : IColumn
    {
        public string Id => "AllocRatio";
        public string ColumnName => "Alloc/Input";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 2;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => $"Allocated bytes per input byte (limit {MaxAllocRatio}; 'OVER' marks a breach)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            var input = InputBytes(benchmarkCase);
            var bytes = report?.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
            if (bytes is null || input == 0)
            {
                return "-";
            }

            var ratio = (double)bytes.Value / input;
            var text = ratio.ToString("N1", CultureInfo.InvariantCulture);
            return ratio > MaxAllocRatio ? text + " OVER" : text;
        }

        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }

    private static string FormatNs(double ns) => ns switch
    {
        >= 1e6 => (ns / 1e6).ToString("N3", CultureInfo.InvariantCulture) + " ms",
        >= 1e3 => (ns / 1e3).ToString("N2", CultureInfo.InvariantCulture) + " μs",
        _ => ns.ToString("N1", CultureInfo.InvariantCulture) + " ns",
    };
}
