namespace TapPass.AspNetCore;

/// <summary>Registered by <c>AddTapPass()</c>; <c>UseTapPass()</c> checks for it to fail fast with a clear message.</summary>
internal sealed class TapPassMarkerService;
