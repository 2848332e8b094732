/** Flipped on SIGTERM so that /health/ready answers 503 while in-flight requests drain. */
export class Readiness {
  draining = false;
}
