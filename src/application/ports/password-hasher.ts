/** Hashes user passwords (bcrypt in production). Never on the token endpoint's path. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
}
