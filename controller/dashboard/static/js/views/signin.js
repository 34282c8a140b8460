// views/signin.js: the sign-in form. The token is typed once, sent in the
// body of POST /api/v1/session, and forgotten: the session cookie (HttpOnly)
// carries the session from then on, so no token sits in a URL or in storage.
import { signIn } from '../api.js';
import { h } from '../dom.js';

// render fills main with the form; done(session) runs once signed in.
export function render(main, done, message) {
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true,
    'aria-describedby': 'signin-help',
  });
  const status = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, message || '');
  const form = h('form', {
    class: 'signin', id: 'signin',
    onsubmit: async (ev) => {
      ev.preventDefault();
      status.textContent = '';
      try {
        const s = await signIn(input.value);
        input.value = '';
        done(s);
      } catch (e) {
        status.textContent = e.status === 401 ? 'That token is not valid.' : `Sign-in failed: ${e.message}`;
        input.focus();
      }
    },
  },
  h('h1', {}, 'Sign in'),
  h('label', { for: 'token' }, 'Access token'),
  input,
  h('p', { id: 'signin-help', class: 'help' }, 'The token from the controller\'s token file. It is sent once; the browser then keeps a session cookie.'),
  h('button', { type: 'submit' }, 'Sign in'),
  status);
  main.replaceChildren(form);
  input.focus();
}
