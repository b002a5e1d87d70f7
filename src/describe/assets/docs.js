// The "try it" forms: each sends its route's call with fetch and shows the status and the reply.
// Values go where the route reads them: path segments, the query, headers or the JSON body.
(function () {
  'use strict';

  function typed(text, type) {
    if (type === 'integer' || type === 'number') {
      var n = Number(text);
      return text.trim() !== '' && !isNaN(n) ? n : text;
    }
    if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
    if (type === 'json') { try { return JSON.parse(text); } catch (e) { return text; } }
    return text;
  }

  function put(body, dotted, value) {
    var keys = dotted.split('.');
    var at = body;
    for (var i = 0; i < keys.length - 1; i++) {
      if (typeof at[keys[i]] !== 'object' || at[keys[i]] === null) at[keys[i]] = {};
      at = at[keys[i]];
    }
    at[keys[keys.length - 1]] = value;
  }

  function request(form) {
    var path = form.dataset.path;
    var query = new URLSearchParams();
    var headers = {};
    var body = null;
    form.querySelectorAll('input[data-in]').forEach(function (input) {
      var value = input.value;
      if (value === '') return;
      switch (input.dataset.in) {
        case 'path':
          path = path.split('{' + input.name + '}').join(encodeURIComponent(value));
          break;
        case 'query': query.append(input.name, value); break;
        case 'header': headers[input.name] = value; break;
        case 'bearer': headers['Authorization'] = 'Bearer ' + value; break;
        case 'body':
          body = body || {};
          put(body, input.name, typed(value, input.dataset.type));
          break;
      }
    });
    var init = { method: form.dataset.method, headers: headers };
    if (body !== null) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    var q = query.toString();
    return { url: path + (q ? '?' + q : ''), init: init };
  }

  function show(form, status, text) {
    var result = form.querySelector('.result');
    var line = result.querySelector('.status');
    line.textContent = status;
    line.className = 'status ' + (/^2/.test(status) ? 'ok' : 'problem');
    result.querySelector('.reply').textContent = text;
    result.hidden = false;
  }

  document.querySelectorAll('form.try').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var call = request(form);
      fetch(call.url, call.init).then(function (response) {
        return response.text().then(function (text) {
          var shown = text;
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
          show(form, response.status + ' ' + response.statusText + ' ' + call.init.method + ' ' + call.url, shown);
        });
      }).catch(function (error) {
        show(form, 'no answer', String(error));
      });
    });
  });
})();
