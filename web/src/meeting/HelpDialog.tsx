// The keyboard shortcuts, in a modal <dialog>: the browser traps focus inside it, closes
// it with Escape and gives focus back to the button that opened it.
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../strings';
import { SHORTCUTS } from './shortcuts';

export function HelpDialog({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="help-title" onClose={onClose}>
      <h2 id="help-title">{t.shortcutsTitle}</h2>
      <p class="hint">{t.shortcutsHelp}</p>
      <table class="shortcuts">
        <thead>
          <tr>
            <th scope="col">{t.shortcutKey}</th>
            <th scope="col">{t.shortcutAction}</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map(([key, action]) => (
            <tr key={key}>
              <td>
                <kbd>{key.toUpperCase()}</kbd>
              </td>
              <td>{t.shortcutActions[action]}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog" class="dialog-actions">
        <button type="submit" class="primary" autofocus>
          {t.closeDialog}
        </button>
      </form>
    </dialog>
  );
}
