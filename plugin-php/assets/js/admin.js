// Stablegate settings screen: "Test connection" (the server runs the doctor's checks; the RPC URL
// never leaves the server unless the merchant just typed it) and live address validation with the
// core's web build, the same parser the server and the widget use.
const config = window.stablegateAdmin || {};

// Only what matters for the merchant's choices: the rows of a network show while it is chosen
// (or in the sandbox), the addresses of a family while one of its networks is, the rate fields of
// the selected source. The table is the server's (Settings::fieldConditions), which also hid the
// rows before this ran.
(() => {
  const field = (key) => document.getElementById(`woocommerce_stablegate_${key}`);
  const networks = field('networks');
  const sandbox = field('sandbox');
  const rateSource = field('rate_source');
  const apply = () => {
    const chosen = sandbox && sandbox.checked
      ? config.sandboxNetworks || []
      : [...(networks ? networks.selectedOptions : [])].map((o) => o.value);
    const ids = new Set(chosen.map((key) => key.split(':')[0]));
    const families = new Set([...ids].map((id) => (config.families || {})[id]));
    for (const [key, condition] of Object.entries(config.conditions || {})) {
      const row = document.querySelector(`tr[data-stablegate-field="${key}"]`);
      if (!row) continue;
      row.hidden = !((condition.network && ids.has(condition.network))
        || (condition.family && families.has(condition.family))
        || (condition.rate_source && rateSource && rateSource.value === condition.rate_source));
    }
  };
  // selectWoo reports changes through jQuery only.
  if (networks && window.jQuery) window.jQuery(networks).on('change', apply);
  for (const input of [networks, sandbox, rateSource]) if (input) input.addEventListener('change', apply);
  apply();

  for (const button of document.querySelectorAll('.stablegate-fold-toggle')) {
    button.addEventListener('click', () => {
      const open = button.getAttribute('aria-expanded') !== 'true';
      button.setAttribute('aria-expanded', String(open));
      for (const row of document.querySelectorAll(`tr[data-stablegate-fold="${button.dataset.fold}"]`)) {
        row.classList.toggle('stablegate-folded', !open);
      }
    });
  }
})();

for (const button of document.querySelectorAll('.stablegate-test-connection')) {
  button.addEventListener('click', async () => {
    const network = button.dataset.network;
    const out = button.parentElement.querySelector('.stablegate-test-result');
    const input = document.getElementById(`woocommerce_stablegate_rpc_${network}`);
    out.textContent = '…';
    try {
      const response = await fetch(config.rest, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-WP-Nonce': config.nonce },
        body: JSON.stringify({ network, rpc_url: input ? input.value : '' }),
      });
      const body = await response.json();
      out.textContent = response.ok
        ? body.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`).join(' · ')
        : body.message;
      out.style.color = response.ok && body.ok ? 'green' : '#b32d2e';
    } catch (error) {
      out.textContent = String(error);
    }
  });
}

(async () => {
  const fields = document.querySelectorAll('textarea.stablegate-address');
  if (!fields.length || !config.core) return;
  let core;
  try {
    core = await import(config.core);
    await core.default();
  } catch (error) {
    return; // The server validates on save anyway.
  }
  const network = { evm: 'ethereum', tron: 'tron' };
  for (const field of fields) {
    const note = document.createElement('p');
    note.className = 'description stablegate-address-check';
    field.after(note);
    const check = () => {
      const problems = [];
      for (const line of field.value.split(/[\s,]+/).filter(Boolean)) {
        try {
          core.parseAddress(network[field.dataset.family], line);
        } catch (error) {
          problems.push(`${line}: ${error.message}`);
        }
      }
      note.textContent = problems.length ? problems.join(' · ') : field.value.trim() ? '✓' : '';
      note.style.color = problems.length ? '#b32d2e' : 'green';
      field.setCustomValidity(problems.join('; '));
    };
    field.addEventListener('input', check);
    check();
  }
})();
