// Questions that depend on an answer on the same page show only once that answer is given
// (progressive enhancement: without JavaScript they are always shown, and the server asks
// them only when the answer fits).
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
})();
