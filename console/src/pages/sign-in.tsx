import { useState } from 'preact/hooks';
import { Problem } from '../components/problem';

export function SignIn({ error, onToken }: { error?: unknown; onToken: (token: string) => void }) {
  const [token, setToken] = useState('');
  return (
    <main id="content" class="sign-in" tabIndex={-1}>
      <h1>Sign in</h1>
      <p>
        Paste the operator token (printed by <code>npm start</code>) or a tenant token. It is kept for this browser tab only and
        forgotten when you sign out or close the tab.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim() !== '') onToken(token.trim());
        }}
      >
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          autoFocus
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <button type="submit">Sign in</button>
      </form>
      {error !== undefined && <Problem error={error} />}
    </main>
  );
}
