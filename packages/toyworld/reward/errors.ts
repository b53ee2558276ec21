/** An image the reward cannot score: wrong length for the size, values outside [−1, 1], NaN. */
export class RewardInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RewardInputError";
  }
}
