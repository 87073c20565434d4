import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';
import { WalletBar } from './components/WalletBar';
import { InvestPage } from './pages/InvestPage';
import { VaultPage } from './pages/VaultPage';

function usePath(): [string, (to: string) => void] {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const on = () => setPath(window.location.pathname);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  const go = (to: string) => {
    if (to !== window.location.pathname) window.history.pushState(null, '', to);
    setPath(to);
    window.scrollTo(0, 0);
  };
  return [path, go];
}

function NavLink({ to, path, go, children }: { to: string; path: string; go: (to: string) => void; children: ReactNode }) {
  const current = path === to;
  return (
    <a
      href={to}
      aria-current={current ? 'page' : undefined}
      onClick={(e: MouseEvent) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        go(to);
      }}
    >
      {children}
    </a>
  );
}

export function App() {
  const [path, go] = usePath();
  const page = path === '/' ? 'vault' : path === '/invest' ? 'invest' : 'missing';
  useEffect(() => {
    document.title = page === 'invest' ? 'Invest · pipeit' : page === 'vault' ? 'pipeit · invoice factoring vault' : 'Not found · pipeit';
  }, [page]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="top-inner">
          <a className="brand" href="/" onClick={(e) => { e.preventDefault(); go('/'); }}>
            <img src="/favicon.svg" alt="" width={24} height={24} /> pipeit
          </a>
          <nav aria-label="Main">
            <NavLink to="/" path={path} go={go}>
              Vault
            </NavLink>
            <NavLink to="/invest" path={path} go={go}>
              Invest
            </NavLink>
          </nav>
          <WalletBar />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page === 'vault' ? <VaultPage /> : page === 'invest' ? <InvestPage /> : (
          <section className="card narrow">
            <h1>Page not found</h1>
            <p>
              <a href="/" onClick={(e) => { e.preventDefault(); go('/'); }}>Back to the vault</a>
            </p>
          </section>
        )}
      </main>
      <footer className="foot">
        <p className="muted small">
          pipeit: invoice factoring on Base. Figures come from the chain through the pipeit API; nothing here is investment
          advice.
        </p>
      </footer>
    </>
  );
}
