/* Stablegate in the Checkout block: plain JS against WooCommerce's globals (no bundler). */
( function () {
	'use strict';
	var registry = window.wc && window.wc.wcBlocksRegistry;
	var settings = window.wc && window.wc.wcSettings;
	if ( ! registry || ! settings || ! window.wp || ! window.wp.element ) {
		return;
	}
	var el = window.wp.element.createElement;
	var useState = window.wp.element.useState;
	var useEffect = window.wp.element.useEffect;
	var decode = window.wp.htmlEntities ? window.wp.htmlEntities.decodeEntities : function ( s ) { return s; };
	var __ = window.wp.i18n ? window.wp.i18n.__ : function ( s ) { return s; };
	var data = settings.getSetting( 'stablegate_data', {} );
	var networks = data.networks || [];
	var label = decode( data.title || 'USDT' );

	function Content( props ) {
		var state = useState( '' );
		var picked = state[ 0 ];
		var setPicked = state[ 1 ];
		var onPaymentSetup = props.eventRegistration.onPaymentSetup;
		useEffect( function () {
			return onPaymentSetup( function () {
				// The choice reaches process_payment as $_POST['stablegate_network'].
				return { type: props.emitResponse.responseTypes.SUCCESS, meta: { paymentMethodData: { stablegate_network: picked } } };
			} );
		}, [ onPaymentSetup, picked ] );
		var children = [ el( 'p', { key: 'd' }, decode( data.description || '' ) ) ];
		if ( networks.length > 1 ) {
			children.push(
				el( 'label', { key: 'l', htmlFor: 'stablegate-network' }, __( 'Network', 'stablegate' ) + ' ' ),
				el(
					'select',
					{ key: 's', id: 'stablegate-network', value: picked, onChange: function ( e ) { setPicked( e.target.value ); } },
					[ el( 'option', { key: '', value: '' }, __( 'Choose on the next page', 'stablegate' ) ) ].concat(
						networks.map( function ( n ) { return el( 'option', { key: n.value, value: n.value }, n.label ); } )
					)
				)
			);
		}
		return el( 'div', { className: 'stablegate-block' }, children );
	}

	registry.registerPaymentMethod( {
		name: 'stablegate',
		label: el( 'span', null, label ),
		ariaLabel: label,
		content: el( Content ),
		edit: el( 'p', null, decode( data.description || '' ) ),
		canMakePayment: function () { return networks.length > 0; },
		supports: { features: data.supports || [ 'products' ] },
	} );
} )();
