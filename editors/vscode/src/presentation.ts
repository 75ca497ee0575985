// Presentation mode: while on (for a screen share), everything envsync shows is masked,
// whatever was revealed and whatever `envsync.showValuesInDiff` says. Kept in memory: it
// ends with the window.

let on = false;
export function presenting(): boolean {
  return on;
}

export function togglePresentation(): boolean {
  on = !on;
  return on;
}
