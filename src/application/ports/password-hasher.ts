/** Hashes user passwords (bcrypt in production). Never on the token endpoint's path. */
export interface PasswordHasher {
  /** Both reject with TemporarilyUnavailable when too many hashes already wait their turn. */
  hash(password: string): Promise<string>;
  /** `key` names the caller (its IP): each key may hold only a share of the waiting places. */
  verify(password: string, hash: string, key?: string): Promise<boolean>;
}
