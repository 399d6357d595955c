`default_nettype none

// AXI4-Lite as it travels inside the RTL: one request struct (master to slave) and one response
// struct (slave to master) per link, 32-bit data and a 32-bit address of which a slave decodes
// the bits it needs. The tops keep flat ports (the co-simulation ABI is generated from them) and
// pack them into these structs once.
package axil_pkg;

  typedef struct packed {
    logic [31:0] awaddr;
    logic        awvalid;
    logic [31:0] wdata;
    logic [3:0]  wstrb;
    logic        wvalid;
    logic        bready;
    logic [31:0] araddr;
    logic        arvalid;
    logic        rready;
  } axil_req_t;

  typedef struct packed {
    logic        awready;
    logic        wready;
    logic [1:0]  bresp;
    logic        bvalid;
    logic        arready;
    logic [31:0] rdata;
    logic [1:0]  rresp;
    logic        rvalid;
  } axil_rsp_t;

  // Widths, for links carried in flat vectors (Yosys 0.23 reads neither arrays of these structs
  // nor $bits of a type in a package); axil_adapter_reg checks them against $bits in simulation.
  localparam int unsigned AXIL_REQ_W = 105;
  localparam int unsigned AXIL_RSP_W = 41;

  localparam axil_req_t AXIL_REQ_IDLE = '0;
  localparam axil_rsp_t AXIL_RSP_IDLE = '0;

endpackage

`default_nettype wire

// A top's flat AXI4-Lite slave port group <p>awaddr_i ... <p>rready_i, packed into a request struct
// and driven from a response struct: one line per port group at the tops, which keep flat ports for
// the co-simulation ABI. Defined here because every reader (Verilator, Yosys) takes the packages
// first and keeps a define for the files after it.
`define AXIL_FLAT_SLAVE(p, req, rsp) \
  assign req.awaddr   = 32'(p``awaddr_i); \
  assign req.awvalid  = p``awvalid_i; \
  assign req.wdata    = p``wdata_i; \
  assign req.wstrb    = p``wstrb_i; \
  assign req.wvalid   = p``wvalid_i; \
  assign req.bready   = p``bready_i; \
  assign req.araddr   = 32'(p``araddr_i); \
  assign req.arvalid  = p``arvalid_i; \
  assign req.rready   = p``rready_i; \
  assign p``awready_o = rsp.awready; \
  assign p``wready_o  = rsp.wready; \
  assign p``bresp_o   = rsp.bresp; \
  assign p``bvalid_o  = rsp.bvalid; \
  assign p``arready_o = rsp.arready; \
  assign p``rdata_o   = rsp.rdata; \
  assign p``rresp_o   = rsp.rresp; \
  assign p``rvalid_o  = rsp.rvalid;

// A generated register block's flat slave port s_axil_* on a request/response struct pair, with the
// address made relative to the block's base (the OKAY responses are the demultiplexer's).
`define AXIL_REG_BLOCK_PORTS(req, rsp, aw, base) \
    .s_axil_awaddr_i (aw'(req.awaddr - 32'(base))), \
    .s_axil_awvalid_i(req.awvalid), \
    .s_axil_awready_o(rsp.awready), \
    .s_axil_wdata_i  (req.wdata), \
    .s_axil_wstrb_i  (req.wstrb), \
    .s_axil_wvalid_i (req.wvalid), \
    .s_axil_wready_o (rsp.wready), \
    .s_axil_bresp_o  (rsp.bresp), \
    .s_axil_bvalid_o (rsp.bvalid), \
    .s_axil_bready_i (req.bready), \
    .s_axil_araddr_i (aw'(req.araddr - 32'(base))), \
    .s_axil_arvalid_i(req.arvalid), \
    .s_axil_arready_o(rsp.arready), \
    .s_axil_rdata_o  (rsp.rdata), \
    .s_axil_rresp_o  (rsp.rresp), \
    .s_axil_rvalid_o (rsp.rvalid), \
    .s_axil_rready_i (req.rready)
