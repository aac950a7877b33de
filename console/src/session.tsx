import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { ApiError, request, type Me, type RequestOptions } from './api.js'

const tokenKey = 'gatehouse.adminToken'

interface SessionValue {
  token: string
  me: Me
  /** Whether this token may change things (viewers may not). */
  canWrite: boolean
  call<T>(path: string, options?: RequestOptions): Promise<T>
  signOut(): void
}

const SessionContext = createContext<SessionValue | null>(null)

export function useSession(): SessionValue {
  const value = useContext(SessionContext)
  if (!value) throw new Error('useSession outside of <SessionProvider>')
  return value
}

/** Asks the gateway who this token is. */
async function whoAmI(token: string): Promise<Me> {
  return request<Me>('/api/me', { authorization: `Bearer ${token}` })
}

type State = { kind: 'checking' } | { kind: 'signed-out'; error?: ApiError } | { kind: 'signed-in'; token: string; me: Me }

/**
 * Holds the admin token for this browser tab (sessionStorage: gone when the tab closes, never
 * in localStorage or a cookie) and the role the gateway gives it.
 */
export function SessionProvider({ children, signIn }: { children: ReactNode; signIn: (props: { onToken: (token: string) => Promise<void>; error?: ApiError }) => ReactNode }) {
  const [state, setState] = useState<State>(() => (sessionStorage.getItem(tokenKey) ? { kind: 'checking' } : { kind: 'signed-out' }))

  const accept = useCallback(async (token: string) => {
    try {
      const me = await whoAmI(token)
      sessionStorage.setItem(tokenKey, token)
      setState({ kind: 'signed-in', token, me })
    } catch (error) {
      sessionStorage.removeItem(tokenKey)
      setState({ kind: 'signed-out', error: error instanceof ApiError ? error : new ApiError({ title: 'Sign-in failed', status: 0, detail: String(error) }) })
    }
  }, [])

  useEffect(() => {
    const stored = sessionStorage.getItem(tokenKey)
    if (stored && state.kind === 'checking') void accept(stored)
  }, [accept, state.kind])

  const signOut = useCallback(() => {
    sessionStorage.removeItem(tokenKey)
    setState({ kind: 'signed-out' })
  }, [])

  const value = useMemo<SessionValue | null>(() => {
    if (state.kind !== 'signed-in') return null
    const auth = { authorization: `Bearer ${state.token}` }
    return {
      token: state.token,
      me: state.me,
      canWrite: state.me.role !== 'viewer',
      call: async <T,>(path: string, options?: RequestOptions) => {
        try {
          return await request<T>(path, auth, options)
        } catch (error) {
          // A token removed from the config mid-session: back to the sign-in form.
          if (error instanceof ApiError && error.status === 401) {
            sessionStorage.removeItem(tokenKey)
            setState({ kind: 'signed-out', error })
          }
          throw error
        }
      },
      signOut,
    }
  }, [state, signOut])

  if (state.kind === 'checking') return <div className="splash" role="status">Checking your token…</div>
  if (state.kind === 'signed-out' || !value) return <>{signIn({ onToken: accept, error: state.kind === 'signed-out' ? state.error : undefined })}</>
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}
