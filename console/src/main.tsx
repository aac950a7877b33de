import { StrictMode, Suspense, lazy } from 'react'
import { createRoot } from 'react-dom/client'
import { BrowserRouter, Route, Routes } from 'react-router'
import './styles.css'
import { Layout } from './components/Layout.js'
import { SessionProvider } from './session.js'
import { SignIn } from './pages/SignIn.js'
import { Calls } from './pages/Calls.js'
import { CallPage } from './pages/CallPage.js'
import { Approvals } from './pages/Approvals.js'
import { Consumers, NewConsumerPage } from './pages/Consumers.js'
import { RoutesPage } from './pages/Routes.js'
import { ConfigPage } from './pages/Config.js'
import { NotFound } from './pages/NotFound.js'

// Loaded on demand: the dashboard carries the chart library, the portal is for consumers only.
const Dashboard = lazy(() => import('./pages/Dashboard.js').then((m) => ({ default: m.Dashboard })))
const AiUsage = lazy(() => import('./pages/AiUsage.js').then((m) => ({ default: m.AiUsage })))
const Portal = lazy(() => import('./portal/Portal.js').then((m) => ({ default: m.Portal })))
const loading = <div className="splash" role="status">Loading…</div>

function Console() {
  return (
    <SessionProvider signIn={(props) => <SignIn {...props} />}>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<Suspense fallback={loading}><Dashboard /></Suspense>} />
          <Route path="calls" element={<Calls />} />
          <Route path="calls/:id" element={<CallPage />} />
          <Route path="ai" element={<Suspense fallback={loading}><AiUsage /></Suspense>} />
          <Route path="approvals" element={<Approvals />} />
          <Route path="consumers" element={<Consumers />} />
          <Route path="consumers/new" element={<NewConsumerPage />} />
          <Route path="routes" element={<RoutesPage />} />
          <Route path="config" element={<ConfigPage />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </SessionProvider>
  )
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter>
      <Routes>
        {/* The portal signs in with a consumer's API key, never with the admin token. */}
        <Route path="/portal/*" element={<Suspense fallback={loading}><Portal /></Suspense>} />
        <Route path="/*" element={<Console />} />
      </Routes>
    </BrowserRouter>
  </StrictMode>,
)
