import { useState, type FormEvent } from 'react'
import { Logo } from '../components/Logo.js'
import type { ApiError } from '../api.js'
import { ProblemBox } from '../components/ui.js'

export function SignIn({ onToken, error }: { onToken: (token: string) => Promise<void>; error?: ApiError }) {
  const [token, setToken] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (!token.trim()) return
    setBusy(true)
    await onToken(token.trim())
    setBusy(false)
  }
  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={(e) => void submit(e)}>
        <div className="brand big">
          <Logo />
          <span>Gatehouse console</span>
        </div>
        <p className="muted">Who is being denied, by what, since when. Sign in with an admin token from <code>admin.tokens</code>.</p>
        <label htmlFor="token">Admin token</label>
        <input id="token" name="token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} autoFocus required />
        <p className="hint">Kept in this tab only (sessionStorage); closing the tab signs you out.</p>
        <ProblemBox error={error} />
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="hint">
          A consumer? Open the <a href="/portal">developer portal</a>.
        </p>
      </form>
    </div>
  )
}
