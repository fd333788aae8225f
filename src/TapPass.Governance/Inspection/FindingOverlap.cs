namespace TapPass.Governance.Inspection;

/// <summary>Resolves overlapping entities: earliest start first, then the longest; a later overlapping one is dropped.</summary>
internal static class FindingOverlap
{
    public static List<EntityFinding> RemoveOverlaps(IEnumerable<EntityFinding> entities)
    {
        var ordered = entities
            .Where(e => e.Finding.Length > 0)
            .OrderBy(e => e.Finding.Start)
            .ThenByDescending(e => e.Finding.Length)
            .ThenBy(e => e.IsSecret ? 0 : 1);
        var result = new List<EntityFinding>();
        var end = int.MinValue;
        foreach (var e in ordered)
        {
            if (e.Finding.Start >= end)
            {
                result.Add(e);
                end = e.Finding.End;
            }
        }

        return result;
    }
}
