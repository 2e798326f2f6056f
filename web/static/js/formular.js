// Progressive enhancement of form pages; without JavaScript everything works the same.
// Questions that depend on an answer on the same page show only once that answer is given
// (without JavaScript they are always shown, and the server asks them only when the answer
// fits); the place of an address gets suggestions from the catalog.
(function () {
  'use strict';
  function chosen(form, name) {
    var values = [];
    var inputs = form.querySelectorAll('input[name="' + CSS.escape(name) + '"], select[name="' + CSS.escape(name) + '"]');
    Array.prototype.forEach.call(inputs, function (input) {
      if (input.tagName === 'SELECT' || input.checked) values.push(input.value);
    });
    return values;
  }
  function update(form) {
    Array.prototype.forEach.call(form.querySelectorAll('[data-reveal-name]'), function (block) {
      var wanted = block.getAttribute('data-reveal-value');
      block.style.display = chosen(form, block.getAttribute('data-reveal-name')).indexOf(wanted) < 0 ? 'none' : '';
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('form.mvsp-form-page'), function (form) {
    update(form);
    form.addEventListener('change', function () { update(form); });
  });
  // The place of an address: the places of Mecklenburg-Vorpommern from the catalog as
  // suggestions while typing (any place can still be typed).
  var timer = null;
  function suggest(input) {
    var list = document.getElementById(input.getAttribute('list'));
    var text = input.value.trim();
    if (!list || text.length < 2) return;
    fetch('/api/v1/catalog/regions?q=' + encodeURIComponent(text), { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) {
        list.textContent = '';
        (data.items || []).forEach(function (place) {
          var option = document.createElement('option');
          option.value = place.name.split(',')[0];
          list.appendChild(option);
        });
      })
      .catch(function () { /* typing goes on without suggestions */ });
  }
  Array.prototype.forEach.call(document.querySelectorAll('input[data-places]'), function (input) {
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { suggest(input); }, 150);
    });
  });
})();
