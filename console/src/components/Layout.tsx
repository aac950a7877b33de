import { useEffect, useState } from 'react'
import { Logo } from '../components/Logo.js'
import { NavLink, Outlet, useLocation } from 'react-router'
import { useSession } from '../session.js'
import { ErrorBoundary } from './ErrorBoundary.js'

const links = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/calls', label: 'Calls' },
  { to: '/ai', label: 'AI usage' },
  { to: '/approvals', label: 'Approvals' },
  { to: '/consumers', label: 'Consumers & keys' },
  { to: '/routes', label: 'Routes & upstreams' },
  { to: '/config', label: 'Config' },
]

export function Layout() {
  const { me, signOut } = useSession()
  const [open, setOpen] = useState(false)
  const location = useLocation()
  // Close the phone menu after navigating.
  useEffect(() => setOpen(false), [location.pathname])
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <Logo />
          <span>Gatehouse</span>
        </div>
        <button type="button" className="menu-button" aria-expanded={open} aria-controls="main-nav" onClick={() => setOpen((o) => !o)}>
          <span aria-hidden="true">☰</span> Menu
        </button>
        <nav id="main-nav" className={open ? 'nav open' : 'nav'} aria-label="Console">
          {links.map((l) => (
            <NavLink key={l.to} to={l.to} end={l.end} className={({ isActive }) => (isActive ? 'active' : undefined)}>
              {l.label}
            </NavLink>
          ))}
        </nav>
        <div className={open ? 'who open' : 'who'}>
          <span className={`role role-${me.role}`} title={`Signed in as ${me.name}`} data-testid="role">
            {me.role}
            {me.tenant ? ` · ${me.tenant}` : ''}
          </span>
          <button type="button" className="button ghost small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="content">
        <ErrorBoundary resetKey={location.pathname}>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  )
}
