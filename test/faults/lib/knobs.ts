// The suite's size knobs, read from the environment; the defaults fit CI (2 cores: the whole suite took
// under 10 minutes, the kill scenario 5.5 of them). FAULT_ROUNDS: kill -9 rounds in the kill scenario;
// FAULT_MESSAGES: messages through it (the issue asks for at least 2,000).
function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** kill -9 rounds of the kill scenario (poll + deliver worker kills). */
export const ROUNDS = envInt('FAULT_ROUNDS', 24);
/** Messages through the kill scenario. */
export const MESSAGES = envInt('FAULT_MESSAGES', 2000);
