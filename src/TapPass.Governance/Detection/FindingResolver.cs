using System.Runtime.InteropServices;

namespace TapPass.Governance.Detection;

/// <summary>
/// Removes overlapping findings: when one finding contains another, the outer one wins (a connection
/// string over the host inside it); when two overlap partially, the higher score wins, then the longer.
/// Identical spans keep the highest score. The survivors are sorted by start.
/// </summary>
internal static class FindingResolver
{
    /// <summary>Resolves <paramref name="findings"/>[<paramref name="from"/>..] in place.</summary>
    public static void Resolve(List<Finding> findings, int from = 0)
    {
        ArgumentNullException.ThrowIfNull(findings);
        if (findings.Count - from <= 1)
        {
            if (findings.Count - from == 1 && findings[from].Length <= 0)
            {
                findings.RemoveAt(from);
            }

            return;
        }

        CollectionsMarshal.AsSpan(findings)[from..].Sort(static (a, b) =>
        {
            int c = a.Start.CompareTo(b.Start);
            if (c != 0)
            {
                return c;
            }

            c = b.Length.CompareTo(a.Length);
            return c != 0 ? c : b.Score.CompareTo(a.Score);
        });

        int write = from;
        for (int read = from; read < findings.Count; read++)
        {
            Finding f = findings[read];
            if (f.Length <= 0)
            {
                continue;
            }

            if (write > from)
            {
                Finding last = findings[write - 1];
                if (f.Start < last.End)
                {
                    if (f.End > last.End && (f.Score > last.Score || (f.Score == last.Score && f.Length > last.Length)))
                    {
                        findings[write - 1] = f;
                    }

                    continue;
                }
            }

            findings[write++] = f;
        }

        findings.RemoveRange(write, findings.Count - write);
    }
}
