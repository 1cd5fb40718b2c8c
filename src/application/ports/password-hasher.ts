/** Hashes user passwords (bcrypt in production). Never on the token endpoint's path. */
export interface PasswordHasher {
  /** Both reject with TemporarilyUnavailable when too many hashes already wait their turn. */
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
}
