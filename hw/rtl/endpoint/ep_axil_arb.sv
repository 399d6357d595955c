`default_nettype none

// Two AXI4-Lite masters onto one slave, one transaction at a time: the host's port (0) and a
// second master inside the endpoint (1, the PCI cfg access window). An idle arbiter grants the
// master that offers AW, W or AR, the second one first; the grant holds until that transaction's
// response (B or R) is taken. The other master sees no ready meanwhile.
module ep_axil_arb (
  input  wire logic                clk_i,
  input  wire logic                rst_ni,
  // Slave port 0: the host
  input  wire axil_pkg::axil_req_t s0_req_i,
  output axil_pkg::axil_rsp_t      s0_rsp_o,
  // Slave port 1: the endpoint's own master (one address for reads and writes, responses OKAY)
  input  wire logic [31:0]         s1_addr_i,
  input  wire logic                s1_awvalid_i,
  output logic                     s1_awready_o,
  input  wire logic [31:0]         s1_wdata_i,
  input  wire logic [3:0]          s1_wstrb_i,
  input  wire logic                s1_wvalid_i,
  output logic                     s1_wready_o,
  output logic                     s1_bvalid_o,
  input  wire logic                s1_bready_i,
  input  wire logic                s1_arvalid_i,
  output logic                     s1_arready_o,
  output logic [31:0]              s1_rdata_o,
  output logic                     s1_rvalid_o,
  input  wire logic                s1_rready_i,
  // Master port
  output axil_pkg::axil_req_t      m_req_o,
  input  wire axil_pkg::axil_rsp_t m_rsp_i
);

  logic busy_q, busy_d;  // a transaction holds the grant
  logic sel_q, sel_d;    // the master that holds it
  logic sel;             // the master this clock's handshakes belong to
  logic req0, req1;
  axil_pkg::axil_req_t s1_req;
  assign req0 = s0_req_i.awvalid || s0_req_i.wvalid || s0_req_i.arvalid;
  assign req1 = s1_awvalid_i || s1_wvalid_i || s1_arvalid_i;
  assign sel  = busy_q ? sel_q : !req1 ? 1'b0 : 1'b1;

  always_comb begin
    s1_req         = axil_pkg::AXIL_REQ_IDLE;
    s1_req.awaddr  = s1_addr_i;
    s1_req.awvalid = s1_awvalid_i;
    s1_req.wdata   = s1_wdata_i;
    s1_req.wstrb   = s1_wstrb_i;
    s1_req.wvalid  = s1_wvalid_i;
    s1_req.bready  = s1_bready_i;
    s1_req.araddr  = s1_addr_i;
    s1_req.arvalid = s1_arvalid_i;
    s1_req.rready  = s1_rready_i;
  end

  assign m_req_o = sel ? s1_req : s0_req_i;

  always_comb begin
    s0_rsp_o         = m_rsp_i;
    s0_rsp_o.awready = !sel && m_rsp_i.awready;
    s0_rsp_o.wready  = !sel && m_rsp_i.wready;
    s0_rsp_o.bvalid  = !sel && m_rsp_i.bvalid;
    s0_rsp_o.arready = !sel && m_rsp_i.arready;
    s0_rsp_o.rvalid  = !sel && m_rsp_i.rvalid;
  end
  assign s1_awready_o = sel && m_rsp_i.awready;
  assign s1_wready_o  = sel && m_rsp_i.wready;
  assign s1_bvalid_o  = sel && m_rsp_i.bvalid;
  assign s1_arready_o = sel && m_rsp_i.arready;
  assign s1_rdata_o   = m_rsp_i.rdata;
  assign s1_rvalid_o  = sel && m_rsp_i.rvalid;

  always_comb begin
    busy_d = busy_q;
    sel_d  = sel_q;
    if (!busy_q && (req0 || req1)) begin
      busy_d = 1'b1;
      sel_d  = sel;
    end
    // The response taken ends the transaction.
    if ((m_rsp_i.bvalid && m_req_o.bready) || (m_rsp_i.rvalid && m_req_o.rready)) busy_d = 1'b0;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      sel_q  <= 1'b0;
    end else begin
      busy_q <= busy_d;
      sel_q  <= sel_d;
    end
  end

endmodule

`default_nettype wire
